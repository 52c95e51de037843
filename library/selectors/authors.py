"""Reads about authors: their books, series, completion and favourites."""

from __future__ import annotations

from django.db.models import Avg, Count, Q, QuerySet, Sum

from library.choices import CompletionStatus
from library.models import Author, Book, Series
from library.selectors.books import author_links_prefetch


def author_queryset() -> QuerySet[Author]:
    return Author.objects.all()


def author_books(*, author: Author) -> QuerySet[Book]:
    """Every book crediting ``author`` (any status), by title."""
    return (
        Book.objects.filter(book_authors__author=author)
        .only("id", "title", "status")
        .prefetch_related(author_links_prefetch())
        .order_by("title", "id")
    )


def series_of_author_q(author_id: int) -> Q:
    """Series led by the author or listing them among their authors (no duplicate rows)."""
    listed = Series.authors.through.objects.filter(author_id=author_id).values("series_id")
    return Q(primary_author_id=author_id) | Q(id__in=listed)


def author_favorites(*, min_books: int) -> QuerySet[Author]:
    """Authors with at least ``min_books`` active books, most-owned first."""
    return Author.objects.filter(books_owned__gte=min_books).order_by("-books_owned", "sort_name", "id")


def status_counts(queryset: QuerySet) -> dict:
    """``{total, monitored, <status>: n …, average, missing, owned}`` of a completion-bearing queryset."""
    per_status = {status: Count("id", filter=Q(completion_status=status)) for status in CompletionStatus.values}
    row = queryset.aggregate(
        total=Count("id"),
        monitored=Count("id", filter=Q(monitored=True)),
        average=Avg("completion_percentage"),
        missing=Sum("books_missing"),
        owned=Sum("books_owned"),
        **per_status,
    )
    average = row["average"]
    return {
        "total": row["total"],
        "monitored": row["monitored"],
        "by_status": {status: row[status] for status in CompletionStatus.values},
        # Avg ignores NULL, so this is the mean over rows whose total is known.
        "average_completion": None if average is None else round(float(average), 2),
        "total_missing": row["missing"] or 0,
        "total_owned": row["owned"] or 0,
    }


def author_completion(*, author: Author) -> dict:
    """The author's counts and the completion of each of their series."""
    series = list(
        Series.objects.filter(series_of_author_q(author.id))
        .only("id", "name", "total_known", "books_owned", "books_missing", "completion_percentage", "completion_status")
        .order_by("name", "id")
    )
    by_status = dict.fromkeys(CompletionStatus.values, 0)
    for item in series:
        by_status[item.completion_status] += 1
    return {
        "id": author.id,
        "name": author.name,
        "books_owned": author.books_owned,
        "books_known": author.books_known,
        "books_missing": author.books_missing,
        "completion_percentage": author.completion_percentage,
        "completion_status": author.completion_status,
        "series_by_status": by_status,
        "series": series,
    }


def author_completion_summary() -> dict:
    """Library-wide author counts: per status, monitored, owned and missing books."""
    return status_counts(Author.objects.all())
