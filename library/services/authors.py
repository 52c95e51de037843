"""Create, change, monitor, delete and merge authors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from library import naming
from library.models import Author, BookAuthor, GapReason, MissingBook, Series
from library.services.completion import author_recalculate, author_recalculate_many, series_recalculate_many
from mamcrawler.api.exceptions import Conflict

PROVIDER_FIELDS = ("openlibrary_id", "hardcover_id", "google_id", "audible_asin", "mam_id")
AUTHOR_FIELDS = ("name", "sort_name", "monitored", "books_known", *PROVIDER_FIELDS)


@dataclass(frozen=True)
class MergeResult:
    """What ``author_merge`` did."""

    target: Author
    merged: list[int]
    books_moved: int
    series_moved: int
    series_merged: int


def _check_name_free(*, name: str, exclude_id: int | None = None) -> None:
    clash = Author.objects.filter(name_key=naming.person_key(name))
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    existing = clash.only("id", "name").first()
    if existing is not None:
        raise Conflict(
            f'An author named "{existing.name}" already exists (id {existing.id}).',
            message="An author with this name already exists.",
            context={"author_id": existing.id},
        )


def _save(author: Author) -> None:
    """Save, turning a lost race on the unique name into the same ``Conflict``."""
    try:
        with transaction.atomic():
            author.save()
    except IntegrityError:
        _check_name_free(name=author.name, exclude_id=author.pk)
        raise


def _check_fields(fields: dict) -> None:
    unknown = set(fields) - set(AUTHOR_FIELDS)
    if unknown:
        raise ValueError(f"Unknown author fields: {', '.join(sorted(unknown))}.")


@transaction.atomic
def author_create(*, name: str, **fields) -> Author:
    """Create an author; "Last, First" is stored as "First Last".

    Raises ``Conflict`` when the normalised name exists.  Computes the initial counts.
    """
    _check_fields(fields)
    _check_name_free(name=name)
    author = Author(name=name, **fields)
    _save(author)
    return author_recalculate(author=author)


@transaction.atomic
def author_update(*, author: Author, **fields) -> Author:
    """Change the given fields; a new name without a sort name gets a fresh sort name.

    Raises ``Conflict`` when the new name belongs to another author.  Recomputes the
    counts when ``books_known`` changes.
    """
    _check_fields(fields)
    known_changed = "books_known" in fields and fields["books_known"] != author.books_known
    if "name" in fields:
        _check_name_free(name=fields["name"], exclude_id=author.pk)
        if not fields.get("sort_name"):
            fields["sort_name"] = naming.sort_name(fields["name"])
    for name, value in fields.items():
        setattr(author, name, value)
    _save(author)
    if known_changed:
        author = author_recalculate(author=author)
    return author


@transaction.atomic
def author_delete(*, author: Author) -> None:
    """Delete an author who has no books; one with books must be merged instead.

    Series the author led pass to their next author (or none).  Raises ``Conflict``
    when books still name the author or a series would clash with another by name.
    """
    book_count = author.book_links.count()
    if book_count:
        raise Conflict(
            f"{author.name} still has {book_count} book(s); merge the author into another one instead "
            "(POST /api/v1/authors/merge/).",
            message="The author still has books.",
            context={"author_id": author.id, "books": book_count},
        )
    for series in Series.objects.filter(primary_author=author).prefetch_related("authors"):
        others = [other for other in series.authors.all() if other.pk != author.pk]
        series.primary_author = others[0] if others else None
        try:
            with transaction.atomic():
                series.save(update_fields=["primary_author", "updated_at"])
        except IntegrityError:
            raise Conflict(
                f'Series "{series.name}" would clash with another series of the same name.',
                context={"series_id": series.id},
            )
    author.delete()


def author_set_monitored(*, author: Author, monitored: bool) -> Author:
    """Follow (or stop following) ``author`` for new books."""
    if author.monitored != monitored:
        author.monitored = monitored
        author.save(update_fields=["monitored", "updated_at"])
    return author


def _move_book_links(target: Author, source_ids: list[int]) -> int:
    """Credit the sources' books to ``target``; a book naming both keeps one link, first place wins."""
    target_links = {link.book_id: link for link in BookAuthor.objects.filter(author=target)}
    source_links = list(BookAuthor.objects.filter(author_id__in=source_ids).order_by("book_id", "position", "id"))
    to_delete, to_move, to_reorder = [], [], {}
    for link in source_links:
        kept = target_links.get(link.book_id)
        if kept is None:
            link.author = target
            target_links[link.book_id] = link
            to_move.append(link)
            continue
        to_delete.append(link.id)
        if link.position < kept.position:
            kept.position = link.position
            if kept not in to_move:
                to_reorder[kept.id] = kept
    BookAuthor.objects.filter(id__in=to_delete).delete()
    BookAuthor.objects.bulk_update(to_move, ["author", "position"], batch_size=500)
    BookAuthor.objects.bulk_update(list(to_reorder.values()), ["position"], batch_size=500)
    return len({link.book_id for link in source_links})


def _merge_series_into(source: Series, destination: Series) -> None:
    """Move the entries of ``source`` into ``destination`` and delete ``source``.

    A book already in ``destination`` keeps its entry there (gaining the source's position
    when it had none); the unique (book, series) pair is never broken.
    """
    existing = {entry.book_id: entry for entry in destination.entries.all()}
    for entry in source.entries.all():
        kept = existing.get(entry.book_id)
        if kept is None:
            entry.series = destination
            entry.save(update_fields=["series"])
        elif kept.position is None and entry.position is not None:
            kept.position, kept.position_end = entry.position, entry.position_end
            kept.position_label = entry.position_label
            kept.save(update_fields=["position", "position_end", "position_label"])
    for field in PROVIDER_FIELDS:
        if not getattr(destination, field):
            setattr(destination, field, getattr(source, field))
    destination.monitored = destination.monitored or source.monitored
    if destination.total_known is None:
        destination.total_known = source.total_known
    destination.save()
    destination.authors.add(*source.authors.all())
    source.delete()


def _move_series(target: Author, source_ids: list[int]) -> tuple[int, int, set[int]]:
    """Hand the sources' series to ``target``; returns (moved, merged, ids to recalculate)."""
    moved: set[int] = set()
    merged = 0
    touched: set[int] = set()
    for series in Series.objects.filter(primary_author_id__in=source_ids).order_by("id"):
        twin = Series.objects.filter(name_key=series.name_key, primary_author=target).first()
        if twin is None:
            series.primary_author = target
            series.save(update_fields=["primary_author", "updated_at"])
            moved.add(series.id)
            touched.add(series.id)
        else:
            _merge_series_into(series, twin)
            merged += 1
            touched.add(twin.id)
    through = Series.authors.through
    linked = set(through.objects.filter(author_id__in=source_ids).values_list("series_id", flat=True))
    has_target = set(through.objects.filter(author=target).values_list("series_id", flat=True))
    through.objects.bulk_create([through(series_id=sid, author_id=target.id) for sid in linked - has_target])
    through.objects.filter(author_id__in=source_ids).delete()
    moved |= linked - has_target
    return len(moved), merged, touched


def _move_gaps(target: Author, source_ids: list[int]) -> int:
    """Hand the sources' gaps to ``target``; a title ``target`` already misses is kept once."""
    taken = set(
        MissingBook.objects.filter(primary_author=target)
        .exclude(reason=GapReason.SERIES_GAP)
        .values_list("title_key", flat=True)
    )
    moved = 0
    for gap in MissingBook.objects.filter(primary_author_id__in=source_ids).order_by("id"):
        if gap.reason != GapReason.SERIES_GAP and gap.title_key in taken:
            gap.delete()
            continue
        taken.add(gap.title_key)
        MissingBook.objects.filter(pk=gap.pk).update(primary_author=target)
        moved += 1
    through = MissingBook.authors.through
    credited = set(through.objects.filter(author_id=target.id).values_list("missingbook_id", flat=True))
    links = through.objects.filter(author_id__in=source_ids)
    through.objects.bulk_create(
        [
            through(missingbook_id=gap_id, author_id=target.id)
            for gap_id in set(links.values_list("missingbook_id", flat=True)) - credited
        ]
    )
    links.delete()
    return moved


@transaction.atomic
def author_merge(*, target: Author, sources: Sequence[Author]) -> MergeResult:
    """Merge duplicate ``sources`` into ``target`` and delete the sources.

    Side effects, all in one transaction:

    - every book credited to a source is credited to ``target``; a book that already names
      the target drops the duplicate link and keeps the earlier place in its author order;
    - series led by a source pass to ``target``; when ``target`` already has a series of the
      same name, the source series' entries move into it and the source series is deleted;
      series merely listing a source list ``target`` instead;
    - empty provider ids and an unknown ``books_known`` of ``target`` are filled from the
      sources; ``target`` is monitored when any of them was;
    - cached counts of ``target`` and the touched series are recalculated.

    - the sources' gaps pass to ``target`` (an author gap for a title ``target`` already
      misses is dropped as a duplicate).

    The audit-log record joins this merge when that model exists.
    ``books_moved`` counts the distinct books that were credited to a source, ``series_moved``
    the surviving series that gained ``target`` and ``series_merged`` the folded-in ones.
    """
    source_list = list(dict.fromkeys(sources))
    if not source_list:
        raise ValueError("Name at least one author to merge.")
    if any(source.pk == target.pk for source in source_list):
        raise ValueError("The target cannot also be a source.")
    source_ids = [source.id for source in source_list]

    books_moved = _move_book_links(target, source_ids)
    series_moved, series_merged, touched_series = _move_series(target, source_ids)
    _move_gaps(target, source_ids)

    for field in PROVIDER_FIELDS:
        if not getattr(target, field):
            setattr(target, field, next((getattr(s, field) for s in source_list if getattr(s, field)), ""))
    if target.books_known is None:
        known = [source.books_known for source in source_list if source.books_known is not None]
        target.books_known = max(known) if known else None
    target.monitored = target.monitored or any(source.monitored for source in source_list)
    target.save()

    Author.objects.filter(id__in=source_ids).delete()
    series_recalculate_many(series_ids=touched_series)
    author_recalculate_many(author_ids=[target.id])
    target.refresh_from_db()
    return MergeResult(
        target=target,
        merged=source_ids,
        books_moved=books_moved,
        series_moved=series_moved,
        series_merged=series_merged,
    )
