"""Reads of metadata history and quality: corrections, completeness figures, the refresh batch."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Avg, Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone

from library.choices import COMPLETENESS_FIELDS, BookStatus
from library.models import Book, BookAuthor, MetadataCorrection, SeriesEntry
from library.services.metadata_history import CHECKED

# Completeness buckets of ``metadata/status/``: (label, lowest, highest), both inclusive.
BUCKETS = (("0-19", 0, 19), ("20-39", 20, 39), ("40-59", 40, 59), ("60-79", 60, 79), ("80-100", 80, 100))


def correction_list_queryset() -> QuerySet[MetadataCorrection]:
    """Corrections with the names their representation shows, newest first (one query a page)."""
    return MetadataCorrection.objects.annotate(
        book_title=F("book__title"),
        created_by_username=F("created_by__username"),
        reverted_by_username=F("reverted_by__username"),
    ).order_by("-created_at", "-id")


def correction_get(*, correction_id: int) -> MetadataCorrection:
    return correction_list_queryset().get(pk=correction_id)


def book_corrections(*, book: Book) -> QuerySet[MetadataCorrection]:
    """``book``'s history, newest first."""
    return correction_list_queryset().filter(book=book)


def books_to_refresh(
    *, limit: int, threshold: int | None = None, days: int | None = None, book_ids: list[int] | None = None
) -> QuerySet[Book]:
    """The ``metadata_refresh`` batch: active books never checked first, then the longest unchecked.

    ``threshold``: only books below that completeness; ``days``: only books added or changed
    in that many days; ``book_ids``: only those books.  The last check is the ``at`` of
    ``metadata_sources["_checked"]`` (ISO text, so text order is time order).
    """
    books = Book.objects.filter(status=BookStatus.ACTIVE)
    if book_ids is not None:
        books = books.filter(pk__in=book_ids)
    if threshold is not None:
        books = books.filter(metadata_completeness__lt=threshold)
    if days is not None:
        since = timezone.now() - timedelta(days=days)
        books = books.filter(Q(date_added__gte=since) | Q(updated_at__gte=since))
    return books.annotate(checked_at=KT(f"metadata_sources__{CHECKED}__at")).order_by(
        F("checked_at").asc(nulls_first=True), "metadata_completeness", "id"
    )[:limit]


def metadata_status(*, threshold: int) -> dict:
    """Completeness of the active books in one aggregate query: buckets, below ``threshold``, fill rates."""
    has = {
        "author": Exists(BookAuthor.objects.filter(book_id=OuterRef("pk"))),
        "series": Exists(SeriesEntry.objects.filter(book_id=OuterRef("pk"))),
        "position": Exists(SeriesEntry.objects.filter(book_id=OuterRef("pk"), position__isnull=False)),
        "narrator": Exists(Book.narrators.through.objects.filter(book_id=OuterRef("pk"))),
    }
    filled = {
        "title": ~Q(title=""),
        "author": Q(has["author"]),
        "series": Q(has["series"]),
        "position": Q(has["position"]),
        "isbn_or_asin": ~Q(isbn="") | ~Q(asin=""),
        "publisher": ~Q(publisher=""),
        "year": Q(published_year__isnull=False) | Q(published_date__isnull=False),
        "duration": Q(duration_seconds__gt=0),
        "description": ~Q(description=""),
        "narrator": Q(has["narrator"]),
    }
    aggregates = {
        "total": Count("id"),
        "average": Avg("metadata_completeness"),
        "below": Count("id", filter=Q(metadata_completeness__lt=threshold)),
        **{
            f"bucket_{index}": Count("id", filter=Q(metadata_completeness__gte=low, metadata_completeness__lte=high))
            for index, (_, low, high) in enumerate(BUCKETS)
        },
        **{f"filled_{name}": Count("id", filter=filled[name]) for name in COMPLETENESS_FIELDS},
    }
    row = Book.objects.filter(status=BookStatus.ACTIVE).aggregate(**aggregates)
    total = row["total"]

    def share(count: int) -> float:
        return round(100 * count / total, 1) if total else 0.0

    return {
        "active_books": total,
        "average_completeness": round(row["average"], 1) if row["average"] is not None else None,
        "threshold": threshold,
        "below_threshold": row["below"],
        "buckets": [
            {"range": label, "min": low, "max": high, "count": row[f"bucket_{index}"]}
            for index, (label, low, high) in enumerate(BUCKETS)
        ],
        "fill_rates": [
            {"field": name, "filled": row[f"filled_{name}"], "percentage": share(row[f"filled_{name}"])}
            for name in COMPLETENESS_FIELDS
        ],
    }


def corrections_by_source(*, days: int) -> dict:
    """Corrections of the last ``days`` per source, with their fields (two grouped queries)."""
    since = timezone.now() - timedelta(days=days)
    recent = MetadataCorrection.objects.filter(created_at__gte=since).order_by()
    per_source = recent.values("source").annotate(
        count=Count("id"),
        reverted=Count("id", filter=Q(reverted_at__isnull=False)),
        average_confidence=Avg("confidence"),
    )
    fields: dict[str, dict[str, int]] = {}
    for row in recent.values("source", "field").annotate(count=Count("id")).order_by("source", "field"):
        fields.setdefault(row["source"], {})[row["field"]] = row["count"]
    sources = sorted(per_source, key=lambda row: (-row["count"], row["source"]))
    return {
        "days": days,
        "since": since,
        "total": sum(row["count"] for row in sources),
        "sources": [
            {
                "source": row["source"],
                "count": row["count"],
                "reverted": row["reverted"],
                "average_confidence": round(row["average_confidence"], 4),
                "fields": fields.get(row["source"], {}),
            }
            for row in sources
        ],
    }
