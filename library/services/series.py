"""Create, change, monitor and delete series, keeping names unique and completion current."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction

from library import naming
from library.models import Author, Book, Series, book_completeness
from library.services.completion import series_recalculate
from mamcrawler.api.exceptions import Conflict

PROVIDER_FIELDS = ("openlibrary_id", "hardcover_id", "google_id", "audible_asin", "mam_id")
SERIES_FIELDS = ("name", "total_known", "monitored", *PROVIDER_FIELDS)


def _unique_authors(authors: Sequence[Author]) -> list[Author]:
    unique: list[Author] = []
    for author in authors:
        if author not in unique:
            unique.append(author)
    return unique


def _check_name_free(*, name: str, primary_author: Author | None, exclude_id: int | None = None) -> None:
    """Raise ``Conflict`` when the primary author already has a series of that name."""
    clash = Series.objects.filter(name_key=naming.name_key(naming.clean(name)), primary_author=primary_author)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    existing = clash.only("id").first()
    if existing is not None:
        owner = f"by {primary_author.name}" if primary_author else "without an author"
        raise Conflict(
            f'A series named "{naming.clean(name)}" {owner} already exists (id {existing.id}).',
            message="A series with this name already exists.",
            context={"series_id": existing.id},
        )


def _save(series: Series, **kwargs) -> None:
    """Save, turning a lost race on the unique name into the same ``Conflict``."""
    try:
        with transaction.atomic():
            series.save(**kwargs)
    except IntegrityError:
        _check_name_free(name=series.name, primary_author=series.primary_author, exclude_id=series.pk)
        raise


@transaction.atomic
def series_create(
    *,
    name: str,
    authors: Sequence[Author] = (),
    total_known: int | None = None,
    monitored: bool = False,
    **provider_ids: str,
) -> Series:
    """Create a series; the first author is its primary author.

    Raises ``Conflict`` when the primary author already has a series of that name
    (case-insensitively).  Computes the initial completion from ``total_known``.
    """
    unknown = set(provider_ids) - set(PROVIDER_FIELDS)
    if unknown:
        raise ValueError(f"Unknown series fields: {', '.join(sorted(unknown))}.")
    authors = _unique_authors(authors)
    primary = authors[0] if authors else None
    _check_name_free(name=name, primary_author=primary)
    series = Series(name=name, primary_author=primary, total_known=total_known, monitored=monitored, **provider_ids)
    _save(series)
    series.authors.set(authors)
    return series_recalculate(series=series)


@transaction.atomic
def series_update(*, series: Series, authors: Sequence[Author] | None = None, **fields) -> Series:
    """Change the given fields and, when passed, replace the authors (the first is primary).

    Raises ``Conflict`` on a name clash.  Recomputes completion when ``total_known`` changes.
    """
    unknown = set(fields) - set(SERIES_FIELDS)
    if unknown:
        raise ValueError(f"Unknown series fields: {', '.join(sorted(unknown))}.")
    if authors is not None:
        authors = _unique_authors(authors)
        series.primary_author = authors[0] if authors else None
    total_changed = "total_known" in fields and fields["total_known"] != series.total_known
    for name, value in fields.items():
        setattr(series, name, value)
    _check_name_free(name=series.name, primary_author=series.primary_author, exclude_id=series.pk)
    _save(series)
    if authors is not None:
        series.authors.set(authors)
    if total_changed:
        series = series_recalculate(series=series)
    return series


@transaction.atomic
def series_delete(*, series: Series) -> None:
    """Delete ``series`` and its entries; the books stay, with their completeness refreshed."""
    book_ids = list(series.entries.values_list("book_id", flat=True))
    series.delete()
    books = list(Book.objects.filter(id__in=book_ids).prefetch_related("book_authors", "narrators", "series_entries"))
    for book in books:
        book.metadata_completeness = book_completeness(book)
    Book.objects.bulk_update(books, ["metadata_completeness"], batch_size=500)


def series_set_monitored(*, series: Series, monitored: bool) -> Series:
    """Follow (or stop following) ``series`` for missing and new books."""
    if series.monitored != monitored:
        series.monitored = monitored
        series.save(update_fields=["monitored", "updated_at"])
    return series
