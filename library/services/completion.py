"""Owned/missing counts and completion for series and authors (cached on the rows).

Once gap analysis has looked at a series or author, its missing count is its gaps
(``MissingBook`` rows that are neither completed nor ignored) rather than arithmetic on
the known total: gaps know about novellas, unpublished books and integer holes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Count, Q

from library.choices import BookStatus, CompletionStatus
from library.models import Author, MissingBook, Series, SeriesEntry
from library.models_gaps import GapReason, GapStatus
from library.positions import Position

COUNT_FIELDS = ("books_owned", "books_missing", "completion_percentage", "completion_status")
# Gaps in these states are not missing books: owned now, or deliberately not wanted.
CLOSED_GAP_STATUSES = (GapStatus.COMPLETED, GapStatus.IGNORED)


def _counts(row) -> tuple:
    return tuple(getattr(row, name) for name in COUNT_FIELDS)


def _save_counts(model, rows, before: dict[int, tuple]) -> None:
    """Write the count fields of ``rows`` that changed since ``before``: one UPDATE per distinct set of values.

    Rows mostly share values (one book owned, nothing missing), so this is a few queries where
    ``bulk_update`` would build a CASE expression per row, which costs seconds for a large scan.
    """
    groups: dict[tuple, list[int]] = defaultdict(list)
    for row in rows:
        values = _counts(row)
        if values != before.get(row.pk):
            groups[values].append(row.pk)
    for values, ids in groups.items():
        changes = dict(zip(COUNT_FIELDS, values, strict=True))
        for offset in range(0, len(ids), 500):
            model.objects.filter(pk__in=ids[offset : offset + 500]).update(**changes)


def covered_positions(rows: Iterable[tuple[Decimal | None, Decimal | None]]) -> tuple[set[int], set[Decimal]]:
    """Whole-numbered positions owned by ``(position, position_end)`` rows, and fractional ones.

    An omnibus 1-3 owns 1, 2 and 3; a novella at 2.5 owns no whole number but is reported
    among the fractional positions.  Recalculation and the completion views share this rule.
    """
    whole: set[int] = set()
    fractional: set[Decimal] = set()
    for start, end in rows:
        whole |= Position(start, end, "").covered_integers()
        if start is not None and end is None and start != start.to_integral_value():
            fractional.add(start)
    return whole, fractional


def completion_status_for(percentage: Decimal | None) -> str:
    if percentage is None:
        return CompletionStatus.UNKNOWN
    if percentage >= 100:
        return CompletionStatus.COMPLETE
    if percentage >= 50:
        return CompletionStatus.PARTIAL
    return CompletionStatus.INCOMPLETE


def _percentage(owned: int, total: int | None) -> Decimal | None:
    if not total:
        return None
    return min(Decimal(100), (Decimal(100) * owned / total).quantize(Decimal("0.01")))


def _missing_gaps(owner: str, ids: Iterable[int], *, reasons=None) -> dict[int, int]:
    """One query: missing gaps (not completed, not ignored) per ``owner`` id."""
    rows = MissingBook.objects.filter(**{f"{owner}__in": list(ids)}).exclude(status__in=CLOSED_GAP_STATUSES)
    if reasons is not None:
        rows = rows.filter(reason__in=reasons)
    return dict(rows.order_by().values_list(owner).annotate(missing=Count("id")).values_list(owner, "missing"))


def series_recalculate_many(*, series_ids: Iterable[int]) -> int:
    """Recompute counts and completion of the given series: two or three reads and an UPDATE per distinct result.

    Owned positions are the whole numbers covered by active books' entries: an omnibus
    entry 1-3 owns 1, 2 and 3.  Completion needs ``total_known``; without it the status
    is ``unknown``.  Missing books are ``total_known`` minus the owned positions in range,
    or, once gap analysis has checked the series (``last_checked``), its open series gaps.
    Returns how many series were updated.
    """
    ids = set(series_ids)
    if not ids:
        return 0
    rows: dict[int, list[tuple]] = defaultdict(list)
    books: dict[int, set[int]] = defaultdict(set)
    # The status is checked here, not in SQL: with it in the WHERE clause SQLite walks every
    # active book and probes the whole id list for each (seconds on a large library).
    entries = (
        SeriesEntry.objects.filter(series_id__in=ids)
        .order_by()
        .values_list("series_id", "book_id", "position", "position_end", "book__status")
    )
    for series_id, book_id, start, end, status in entries:
        if status != BookStatus.ACTIVE:
            continue
        books[series_id].add(book_id)
        rows[series_id].append((start, end))
    updated = list(Series.objects.filter(id__in=ids).only("id", "total_known", "last_checked", *COUNT_FIELDS))
    before = {series.pk: _counts(series) for series in updated}
    analysed = [series.id for series in updated if series.last_checked is not None]
    missing_gaps = _missing_gaps("series_id", analysed, reasons=[GapReason.SERIES_GAP]) if analysed else {}
    for series in updated:
        owned_positions, _fractional = covered_positions(rows[series.id])
        series.books_owned = len(books[series.id])
        if series.total_known:
            in_range = {p for p in owned_positions if 1 <= p <= series.total_known}
            series.books_missing = series.total_known - len(in_range)
            series.completion_percentage = _percentage(len(in_range), series.total_known)
        else:
            series.books_missing = 0
            series.completion_percentage = None
        if series.last_checked is not None:
            series.books_missing = missing_gaps.get(series.id, 0)
        series.completion_status = completion_status_for(series.completion_percentage)
    _save_counts(Series, updated, before)
    return len(updated)


def series_recalculate(*, series: Series) -> Series:
    """Recompute one series and return it fresh from the database."""
    series_recalculate_many(series_ids=[series.id])
    series.refresh_from_db()
    return series


def author_recalculate_many(*, author_ids: Iterable[int]) -> int:
    """Recompute owned/missing/completion for the given authors from their active books.

    Once the author has gaps or gap analysis has checked them (``last_checked``), missing
    books are their gaps that are neither completed nor ignored (series, author and
    wishlist gaps naming them as primary author) and completion is owned ÷ (owned +
    missing); otherwise missing is ``books_known`` minus owned.
    """
    ids = set(author_ids)
    if not ids:
        return 0
    authors = list(
        Author.objects.filter(id__in=ids).annotate(
            owned=Count("books", filter=Q(books__status=BookStatus.ACTIVE), distinct=True)
        )
    )
    before = {author.pk: _counts(author) for author in authors}
    # Every gap naming the author (any status) says gaps decide; the open ones are missing.
    gaps = dict(
        MissingBook.objects.filter(primary_author_id__in=ids)
        .order_by()
        .values_list("primary_author_id")
        .annotate(missing=Count("id", filter=~Q(status__in=CLOSED_GAP_STATUSES)))
        .values_list("primary_author_id", "missing")
    )
    for author in authors:
        author.books_owned = author.owned
        if author.last_checked is not None or author.id in gaps:
            missing = gaps.get(author.id, 0)
            author.books_missing = missing
            author.completion_percentage = _percentage(author.owned, author.owned + missing)
        elif author.books_known is not None:
            known = max(author.books_known, author.owned)
            author.books_missing = known - author.owned
            author.completion_percentage = _percentage(author.owned, known)
        else:
            author.books_missing = 0
            author.completion_percentage = None
        author.completion_status = completion_status_for(author.completion_percentage)
    _save_counts(Author, authors, before)
    return len(authors)


def author_recalculate(*, author: Author) -> Author:
    """Recompute one author and return it fresh from the database."""
    author_recalculate_many(author_ids=[author.id])
    author.refresh_from_db()
    return author
