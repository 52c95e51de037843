"""Reads of books: list/detail querysets with their prefetches, search, incomplete, stats."""

from __future__ import annotations

import json
import operator
from collections import namedtuple
from dataclasses import MISSING, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache, reduce

import orjson
from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework.filters import search_smart_split

from library.choices import BookStatus
from library.models import Author, Book, BookAuthor, BookFile, Narrator, Series, SeriesEntry
from library.selectors.sums import as_int, wide_sum

# What ``search=`` and ``search/?q=`` look in (DRF SearchFilter syntax, ``icontains``).
BOOK_SEARCH_FIELDS = (
    "title",
    "subtitle",
    "authors__name",
    "series__name",
    "narrators__name",
    "isbn",
    "asin",
)
# Attribute names the prefetches below fill (plain lists, cheap to read while serialising).
AUTHOR_LINKS = "prefetched_author_links"
NARRATORS = "prefetched_narrators"
SERIES_ENTRIES = "prefetched_series_entries"
FILES = "prefetched_files"

STATS_TOP_LANGUAGES = 20
STATS_RECENT_DAYS = 30


# Each prefetched list: the relation it holds, that relation's model, and how its rows are
# read. One definition serves the prefetch and ``relation_list``'s fallback query.
_RELATIONS = {
    # The author's name rides on the link row: no Author instances (their many fields make
    # model construction the dominant cost of a page).
    AUTHOR_LINKS: (
        "book_authors",
        BookAuthor,
        lambda rows: rows.annotate(author_name=F("author__name")).order_by("position", "id"),
    ),
    NARRATORS: ("narrators", Narrator, lambda rows: rows.only("id", "name").order_by("name", "id")),
    SERIES_ENTRIES: ("series_entries", SeriesEntry, lambda rows: rows.annotate(series_name=F("series__name"))),
    FILES: ("files", BookFile, lambda rows: rows.order_by("path")),
}


def _prefetch(attribute: str) -> Prefetch:
    relation, model, shape = _RELATIONS[attribute]
    return Prefetch(relation, queryset=shape(model.objects.all()), to_attr=attribute)


def author_links_prefetch() -> Prefetch:
    """A book's ordered author links with ``author_name``, in ``AUTHOR_LINKS``: one query a page.

    Every brief ``authors`` list (books, series and author pages, duplicates) reads this.
    """
    return _prefetch(AUTHOR_LINKS)


def book_relation_prefetches() -> list[Prefetch]:
    """Authors (in order), narrators and series entries, each in one query for a whole page.

    Link rows carry ``author_name`` / ``series_name``; serialisers read those lists directly.
    """
    return [_prefetch(AUTHOR_LINKS), _prefetch(NARRATORS), _prefetch(SERIES_ENTRIES)]


def book_list_queryset() -> QuerySet[Book]:
    """Books ordered by title, id; a page's relations come from ``book_attach_relations``.

    No prefetches here: the list serializer (``BookSerializer``'s ``many=True`` form) attaches
    them to the page in three ``values_list`` queries, the same three a prefetch would run.
    """
    return Book.objects.order_by("title", "id")


def book_detail_queryset() -> QuerySet[Book]:
    """Books with every relation the detail representation shows, files included."""
    return Book.objects.prefetch_related(*book_relation_prefetches(), _prefetch(FILES)).order_by("title", "id")


# Light rows of a page's relations: the attributes the serialisers read, as plain tuples.
AuthorLinkRow = namedtuple("AuthorLinkRow", "author_id author_name")
NarratorRow = namedtuple("NarratorRow", "id name")
SeriesEntryRow = namedtuple("SeriesEntryRow", "series_id series_name position position_end position_label")


@dataclass(slots=True)
class BookRow:
    """A listed book read without a model instance: the attributes ``BookSerializer`` reads.

    Built positionally from ``book_page_rows``' statement (``BOOK_ROW_FIELDS``, in this
    order): the generated ``__init__`` costs a seventh of setting 22 attributes one by one.
    """

    id: int
    title: str
    subtitle: str
    isbn: str
    asin: str
    publisher: str
    published_year: int | None
    published_date: date | None
    language: str
    description: str
    duration_seconds: float | None
    abridged: bool
    format: str
    bitrate_kbps: int | None
    size_bytes: int
    abs_id: str
    status: str
    metadata_completeness: int
    metadata_sources: dict
    locked_fields: list
    date_added: datetime
    updated_at: datetime
    # Filled by ``book_attach_relations`` (the names are AUTHOR_LINKS, NARRATORS, SERIES_ENTRIES).
    prefetched_author_links: list | None = None
    prefetched_narrators: list | None = None
    prefetched_series_entries: list | None = None

    @property
    def pk(self) -> int:
        return self.id


# The columns the list representation shows, in the order ``book_page_rows`` reads them.
BOOK_ROW_FIELDS = tuple(field.name for field in fields(BookRow) if field.default is MISSING)


def _utc(value):
    """SQLite hands back naive datetimes (stored in UTC); PostgreSQL aware ones."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _json(value):
    """A JSON column as its value: both backends hand it over as text (orjson reads it fastest)."""
    if not isinstance(value, str | bytes):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:  # what only the standard library reads (NaN, huge integers)
        return json.loads(value)


def book_page_rows(ids: list[int]) -> list[BookRow]:
    """The books ``ids`` (a page, in that order) as ``BookRow``s, read by one written-out statement.

    The books list's hot path: the page's ids come from the filtered, ordered, paginated
    queryset (``values_list("pk")``), and the rows from here. Measured with ``bench/load.py``
    (SQLite, 50 books): 50 model instances with their field converters cost about 1 ms a
    request, these rows a third of that. ``tests/bench/test_floor.py`` and the books API
    tests pin that the representation is the same.
    """
    if not ids:
        return []
    placeholders = ", ".join(["%s"] * len(ids))
    rows = {}
    with connection.cursor() as cursor:
        cursor.execute(_page_sql(connection.vendor).format(ids=placeholders), list(ids))
        for values in cursor.fetchall():
            row = BookRow(*values)
            row.abridged = bool(row.abridged)
            row.metadata_sources = _json(row.metadata_sources)
            row.locked_fields = _json(row.locked_fields)
            row.date_added, row.updated_at = _utc(row.date_added), _utc(row.updated_at)
            rows[row.id] = row
    return [rows[pk] for pk in ids if pk in rows]


@cache
def _page_sql(vendor: str) -> str:
    """``book_page_rows``' statement, named from the model's metadata; the ids go in ``{ids}``."""
    q = connection.ops.quote_name
    columns = ", ".join(q(Book._meta.get_field(name).column) for name in BOOK_ROW_FIELDS)
    return f"SELECT {columns} FROM {q(Book._meta.db_table)} WHERE {q('id')} IN ({{ids}})"  # noqa: S608


@cache
def _relation_sql(vendor: str) -> tuple[str, str, str]:
    """The three statements of ``book_attach_relations``, named from the models' metadata.

    Each is one fixed statement for any page: the page's ids come as one JSON-free list
    parameter expanded to ``IN (%s, …)`` by the caller.
    """
    q = connection.ops.quote_name
    link, author = BookAuthor._meta, Author._meta
    through, narrator = Book.narrators.through._meta, Narrator._meta
    entry, series = SeriesEntry._meta, Series._meta
    # Identifiers come from the models' metadata and ids are parameters: nothing user-supplied is spliced in.
    authors = (
        f"SELECT l.{q('book_id')}, a.{q('id')}, a.{q('name')} FROM {q(link.db_table)} l "  # noqa: S608
        f"JOIN {q(author.db_table)} a ON a.{q('id')} = l.{q('author_id')} "
        f"WHERE l.{q('book_id')} IN ({{ids}}) ORDER BY l.{q('position')}, l.{q('id')}"
    )
    narrators = (
        f"SELECT t.{q('book_id')}, n.{q('id')}, n.{q('name')} FROM {q(through.db_table)} t "  # noqa: S608
        f"JOIN {q(narrator.db_table)} n ON n.{q('id')} = t.{q('narrator_id')} "
        f"WHERE t.{q('book_id')} IN ({{ids}}) ORDER BY n.{q('name')}, n.{q('id')}"
    )
    entries = (
        f"SELECT e.{q('book_id')}, s.{q('id')}, s.{q('name')}, e.{q('position')}, e.{q('position_end')}, "  # noqa: S608
        f"e.{q('position_label')} FROM {q(entry.db_table)} e "
        f"JOIN {q(series.db_table)} s ON s.{q('id')} = e.{q('series_id')} "
        f"WHERE e.{q('book_id')} IN ({{ids}}) "
        f"ORDER BY CASE WHEN e.{q('position')} IS NULL THEN 1 ELSE 0 END, e.{q('position')}, e.{q('id')}"
    )
    return authors, narrators, entries


def _decimal(value) -> Decimal | None:
    """A DecimalField read by hand: PostgreSQL gives Decimal, SQLite an int or a float."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def book_attach_relations(books: list[Book]) -> list[Book]:
    """Fill ``AUTHOR_LINKS``, ``NARRATORS`` and ``SERIES_ENTRIES`` of ``books`` in three queries.

    The lists ``book_relation_prefetches()`` would give (same rows, same order: the tests
    compare them) as named tuples.  This is the books list's hot path, so the three
    statements are written out (``_relation_sql``) rather than built by the ORM for every
    page: measured with ``bench/load.py`` (50 books a page, SQLite), building and compiling
    the three querysets cost 1.7 ms a request against 0.2 ms for running them.  Books that
    already carry the lists are left alone.
    """
    todo = {book.pk: book for book in books if getattr(book, AUTHOR_LINKS, None) is None}
    if not todo:
        return books
    links = {pk: [] for pk in todo}
    narrators = {pk: [] for pk in todo}
    entries = {pk: [] for pk in todo}
    authors_sql, narrators_sql, entries_sql = _relation_sql(connection.vendor)
    ids = list(todo)
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(authors_sql.format(ids=placeholders), ids)
        for book_id, author_id, name in cursor.fetchall():
            links[book_id].append(AuthorLinkRow(author_id, name))
        cursor.execute(narrators_sql.format(ids=placeholders), ids)
        for book_id, narrator_id, name in cursor.fetchall():
            narrators[book_id].append(NarratorRow(narrator_id, name))
        cursor.execute(entries_sql.format(ids=placeholders), ids)
        for book_id, series_id, name, position, position_end, label in cursor.fetchall():
            entries[book_id].append(SeriesEntryRow(series_id, name, _decimal(position), _decimal(position_end), label))
    for pk, book in todo.items():
        setattr(book, AUTHOR_LINKS, links[pk])
        setattr(book, NARRATORS, narrators[pk])
        setattr(book, SERIES_ENTRIES, entries[pk])
    return books


def book_get(*, book_id: int) -> Book:
    """One book with everything its detail representation shows; 404 when unknown."""
    return get_object_or_404(book_detail_queryset(), pk=book_id)


def book_in_bulk(*, book_ids) -> dict[int, Book]:
    """Books by id with their authors (two queries), for brief representations."""
    return Book.objects.prefetch_related(author_links_prefetch()).in_bulk(book_ids)


def book_matching(queryset: QuerySet[Book], text: str) -> QuerySet[Book]:
    """Books matching every word of ``text`` in one of ``BOOK_SEARCH_FIELDS``.

    The same rule as DRF's SearchFilter; relations are matched inside one ``EXISTS`` so a
    book with two matching authors is not listed twice.
    """
    terms = search_smart_split(text)
    if not terms:
        return queryset
    condition = reduce(
        operator.and_,
        (reduce(operator.or_, (Q(**{f"{field}__icontains": term}) for field in BOOK_SEARCH_FIELDS)) for term in terms),
    )
    matches = Book.objects.filter(condition, pk=OuterRef("pk"))
    return queryset.filter(Exists(matches))


def book_search(*, text: str) -> QuerySet[Book]:
    """Books matching ``text``, best first: title starting with it, title containing it, the rest."""
    text = text.strip()
    return (
        book_matching(book_list_queryset(), text)
        .annotate(
            rank=Case(
                When(title__istartswith=text, then=Value(0)),
                When(title__icontains=text, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "title", "id")
    )


def book_incomplete(*, threshold: int) -> QuerySet[Book]:
    """Active books whose completeness is below ``threshold``, least complete first."""
    return (
        book_list_queryset()
        .filter(status=BookStatus.ACTIVE, metadata_completeness__lt=threshold)
        .order_by("metadata_completeness", "title", "id")
    )


def book_missing_fields(book: Book) -> list[str]:
    """The completeness fields (SPEC §3, ``COMPLETENESS_FIELDS``) that ``book`` leaves empty.

    Reads the relations from the list prefetches when present (no query per book).
    """
    links = relation_list(book, AUTHOR_LINKS)
    narrators = relation_list(book, NARRATORS)
    entries = relation_list(book, SERIES_ENTRIES)
    checks = (
        ("title", bool(book.title)),
        ("author", bool(links)),
        ("series", bool(entries)),
        ("position", any(entry.position is not None for entry in entries)),
        ("isbn_or_asin", bool(book.isbn or book.asin)),
        ("publisher", bool(book.publisher)),
        ("year", book.published_year is not None or book.published_date is not None),
        ("duration", bool(book.duration_seconds)),
        ("description", bool(book.description)),
        ("narrator", bool(narrators)),
    )
    return [name for name, filled in checks if not filled]


def relation_list(book: Book, attribute: str) -> list:
    """The prefetched list ``attribute`` of ``book``, or the same rows queried when not prefetched."""
    cached = getattr(book, attribute, None)
    if cached is not None:
        return cached
    if not book.pk:
        return []
    relation, _model, shape = _RELATIONS[attribute]
    return list(shape(getattr(book, relation).all()))


def book_stats() -> dict:
    """Library figures in four aggregate queries.

    ``total`` and ``by_status`` count every book; the other figures describe the active
    library (archived and duplicate books are no longer owned).
    """
    now = timezone.now()
    active = Book.objects.filter(status=BookStatus.ACTIVE)
    by_status = dict.fromkeys(BookStatus.values, 0)
    by_status.update(Book.objects.order_by().values_list("status").annotate(n=Count("id")))
    figures = active.annotate(
        in_series=Exists(SeriesEntry.objects.filter(book_id=OuterRef("pk"))),
    ).aggregate(
        count=Count("id"),
        duration=Sum("duration_seconds"),
        size=wide_sum("size_bytes"),
        completeness=Avg("metadata_completeness"),
        with_series=Count("id", filter=Q(in_series=True)),
        recent=Count("id", filter=Q(date_added__gte=now - timedelta(days=STATS_RECENT_DAYS))),
    )
    by_format = dict(active.order_by().values_list("format").annotate(n=Count("id")).order_by("-n", "format"))
    by_language = dict(
        active.order_by()
        .values_list("language")
        .annotate(n=Count("id"))
        .order_by("-n", "language")[:STATS_TOP_LANGUAGES]
    )
    average = figures["completeness"]
    return {
        "total": sum(by_status.values()),
        "active": figures["count"],
        "by_status": by_status,
        "by_format": by_format,
        "by_language": by_language,
        "total_duration_seconds": figures["duration"] or 0,
        "total_size_bytes": as_int(figures["size"]),
        "average_completeness": round(float(average), 1) if average is not None else None,
        "with_series": figures["with_series"],
        "without_series": figures["count"] - figures["with_series"],
        "added_last_30_days": figures["recent"],
    }
