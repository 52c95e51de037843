"""The data-access floor of SPEC §12: ``GET /api/v1/books/`` by hand-written SQL and ``JsonResponse``.

A plain Django view (no DRF: no authentication, permissions, throttling, filters or
serializers) that answers the same page as the books list — same fields, same order, the
same nested ``authors``/``narrators``/``series`` lists and the same ``count/next/previous/
results`` envelope — with five queries: the count, the page, and one query per relation for
the page's ids (what the list's prefetches do). Whatever the real endpoint spends above this
is framework and serialisation overhead; the bench reports the ratio of the two.

Routed only by ``bench.urls`` (``bench.settings``), never in production.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.http import JsonResponse
from rest_framework.utils.urls import remove_query_param, replace_query_param

FLOOR_PATH = "/bench/floor/books/"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500

_BOOK_COLUMNS = (
    "id, title, subtitle, isbn, asin, publisher, published_year, published_date, language, description, "
    "duration_seconds, abridged, format, bitrate_kbps, size_bytes, abs_id, status, metadata_completeness, "
    "metadata_sources, locked_fields, date_added, updated_at"
)
_PAGE = f"SELECT {_BOOK_COLUMNS} FROM library_book ORDER BY title, id LIMIT %s OFFSET %s"  # noqa: S608
_AUTHORS = (
    "SELECT ba.book_id, a.id, a.name FROM library_bookauthor ba JOIN library_author a ON a.id = ba.author_id "
    "WHERE ba.book_id IN ({ids}) ORDER BY ba.position, ba.id"
)
_NARRATORS = (
    "SELECT bn.book_id, n.id, n.name FROM library_book_narrators bn JOIN library_narrator n ON n.id = bn.narrator_id "
    "WHERE bn.book_id IN ({ids}) ORDER BY n.name, n.id"
)
_SERIES = (
    "SELECT se.book_id, s.id, s.name, se.position, se.position_label FROM library_seriesentry se "
    "JOIN library_series s ON s.id = se.series_id WHERE se.book_id IN ({ids}) "
    "ORDER BY se.position ASC NULLS LAST, se.id"
)


def book_list_floor(request) -> JsonResponse:
    """One page of books, ``?limit=&offset=`` as on the books list."""
    limit = _int(request.GET.get("limit"), DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    offset = _int(request.GET.get("offset"), 0, minimum=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM library_book")
        count = cursor.fetchone()[0]
        cursor.execute(_PAGE, [limit, offset])
        rows = cursor.fetchall()
        books = [_book(row) for row in rows]
        by_id = {book["id"]: book for book in books}
        if by_id:
            ids = list(by_id)
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(_AUTHORS.format(ids=marks), ids)
            for book_id, author_id, name in cursor.fetchall():
                by_id[book_id]["authors"].append({"id": author_id, "name": name})
            cursor.execute(_NARRATORS.format(ids=marks), ids)
            for book_id, narrator_id, name in cursor.fetchall():
                by_id[book_id]["narrators"].append({"id": narrator_id, "name": name})
            cursor.execute(_SERIES.format(ids=marks), ids)
            for book_id, series_id, name, position, label in cursor.fetchall():
                by_id[book_id]["series"].append(
                    {"id": series_id, "name": name, "position": _position(position), "position_label": label}
                )
    url = request.build_absolute_uri()
    return JsonResponse(
        {
            "count": count,
            "next": _next(url, limit, offset, count),
            "previous": _previous(url, limit, offset),
            "results": books,
        }
    )


def _book(row) -> dict:
    (
        book_id,
        title,
        subtitle,
        isbn,
        asin,
        publisher,
        published_year,
        published_date,
        language,
        description,
        duration_seconds,
        abridged,
        fmt,
        bitrate_kbps,
        size_bytes,
        abs_id,
        status,
        completeness,
        sources,
        locked,
        date_added,
        updated_at,
    ) = row
    return {
        "id": book_id,
        "title": title,
        "subtitle": subtitle,
        "authors": [],
        "narrators": [],
        "series": [],
        "isbn": isbn,
        "asin": asin,
        "publisher": publisher,
        "published_year": published_year,
        "published_date": published_date.isoformat() if isinstance(published_date, date) else published_date,
        "language": language,
        "description": description,
        "duration_seconds": duration_seconds,
        "abridged": bool(abridged),
        "format": fmt,
        "bitrate_kbps": bitrate_kbps,
        "size_bytes": size_bytes,
        "abs_id": abs_id,
        "status": status,
        "metadata_completeness": completeness,
        # Both backends hand JSON columns over as text (Django registers psycopg's jsonb loader so).
        "metadata_sources": json.loads(sources) if isinstance(sources, str) else sources,
        "locked_fields": json.loads(locked) if isinstance(locked, str) else locked,
        "date_added": _timestamp(date_added),
        "updated_at": _timestamp(updated_at),
    }


def _timestamp(value) -> str | None:
    """ISO-8601 UTC with ``Z``: PostgreSQL gives aware datetimes, SQLite naive ones in UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat() + "Z" if value.tzinfo is None else value.isoformat().replace("+00:00", "Z")
    return value.replace(" ", "T") + "Z"  # text, should a connection hand it over undecoded


def _position(value) -> str | None:
    """A decimal string without trailing zeros ("2.5", "3"); SQLite stores NUMERIC as int or float."""
    if value is None:
        return None
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return format(number.normalize(), "f")


def _int(raw: str | None, default: int, *, minimum: int, maximum: int | None = None) -> int:
    """DRF's pagination rule: a bad or out-of-range value means the default; ``limit`` is capped."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    if value < minimum:
        return default
    return min(value, maximum) if maximum else value


def _next(url: str, limit: int, offset: int, count: int) -> str | None:
    if offset + limit >= count:
        return None
    return replace_query_param(replace_query_param(url, "limit", limit), "offset", offset + limit)


def _previous(url: str, limit: int, offset: int) -> str | None:
    if offset <= 0:
        return None
    url = replace_query_param(url, "limit", limit)
    if offset - limit <= 0:
        return remove_query_param(url, "offset")
    return replace_query_param(url, "offset", offset - limit)
