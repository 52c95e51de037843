"""Reads about series: lists with their authors, books in reading order, completion."""

from __future__ import annotations

from django.db.models import F, FilteredRelation, Prefetch, Q, QuerySet

from library.choices import BookStatus, CompletionStatus
from library.models import Author, Book, Series, SeriesEntry
from library.positions import format_position
from library.selectors.authors import series_of_author_q, status_counts
from library.selectors.books import author_links_prefetch
from library.services.completion import covered_positions


def series_queryset() -> QuerySet[Series]:
    """Series with the primary author joined and the other authors prefetched (two queries a page)."""
    return Series.objects.select_related("primary_author").prefetch_related(
        Prefetch("authors", queryset=Author.objects.only("id", "name", "sort_name").order_by("sort_name", "id"))
    )


def series_of_author(*, author: Author) -> QuerySet[Series]:
    return series_queryset().filter(series_of_author_q(author.id)).order_by("name", "id")


def series_incomplete() -> QuerySet[Series]:
    """Partial and incomplete series, most missing books first."""
    statuses = [CompletionStatus.PARTIAL, CompletionStatus.INCOMPLETE]
    return series_queryset().filter(completion_status__in=statuses).order_by("-books_missing", "name", "id")


def series_books(*, series: Series) -> QuerySet[Book]:
    """The series' books in reading order, annotated with their entry.

    Positions are decimals, so 2.5 sorts between 2 and 3 and an omnibus 3-4 by its start;
    a single book sorts before a range starting at the same number; unknown positions last.
    """
    return (
        Book.objects.annotate(entry=FilteredRelation("series_entries", condition=Q(series_entries__series=series)))
        .filter(entry__isnull=False)
        .annotate(
            series_position=F("entry__position"),
            series_position_end=F("entry__position_end"),
            series_position_label=F("entry__position_label"),
        )
        .only("id", "title", "status")
        .prefetch_related(author_links_prefetch())
        .order_by(
            F("series_position").asc(nulls_last=True),
            F("series_position_end").asc(nulls_first=True),
            "title",
            "id",
        )
    )


def series_completion(*, series: Series) -> dict:
    """Owned, missing and fractional positions of ``series`` from its active books."""
    rows = SeriesEntry.objects.filter(series=series, book__status=BookStatus.ACTIVE).values_list(
        "position", "position_end"
    )
    owned, fractional = covered_positions(rows)
    total = series.total_known or 0
    return {
        "id": series.id,
        "name": series.name,
        "total_known": series.total_known,
        "books_owned": series.books_owned,
        "books_missing": series.books_missing,
        "completion_percentage": series.completion_percentage,
        "completion_status": series.completion_status,
        "owned_positions": sorted(owned),
        "missing_positions": [position for position in range(1, total + 1) if position not in owned],
        "fractional_positions": [format_position(position) for position in sorted(fractional)],
    }


def series_completion_summary() -> dict:
    """Library-wide series counts: per status, monitored, average completion, missing books."""
    return status_counts(Series.objects.all())
