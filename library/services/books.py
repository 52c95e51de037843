"""Create, update, archive and lock books, keeping relations and cached counts right."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from library.choices import LOCKABLE_FIELDS, BookStatus
from library.models import Author, Book, BookAuthor, Narrator, Series, SeriesEntry
from library.positions import Position, parse_position
from library.services.completion import author_recalculate_many, series_recalculate_many
from library.services.metadata_history import RELATIONS, History, corrections_write, relation_values, stamp
from library.services.people import author_get_or_create, narrator_get_or_create, series_get_or_create

SCALAR_FIELDS = (
    "title",
    "subtitle",
    "isbn",
    "asin",
    "publisher",
    "published_year",
    "published_date",
    "language",
    "description",
    "duration_seconds",
    "abridged",
    "format",
    "bitrate_kbps",
    "size_bytes",
    "abs_id",
    "status",
)


@dataclass(frozen=True)
class SeriesRef:
    """A wanted series membership: the series (object or name) and its position."""

    series: Series | str
    position: Position


MANUAL = "manual"


def _source_stamp(source: str) -> dict:
    return stamp(source)


def _resolve_people(values: Sequence[Author | Narrator | str], model, get_or_create) -> list:
    """``model`` objects for ``values`` (objects, or names created when unknown), first mention kept."""
    resolved = []
    for value in values:
        person = value if isinstance(value, model) else get_or_create(name=value)
        if person not in resolved:
            resolved.append(person)
    return resolved


def _set_authors(book: Book, authors: list[Author]) -> set[int]:
    """Replace the ordered authors; return the ids of authors added or removed."""
    before = set(book.book_authors.values_list("author_id", flat=True))
    book.book_authors.all().delete()
    BookAuthor.objects.bulk_create(
        [BookAuthor(book=book, author=author, position=index) for index, author in enumerate(authors)]
    )
    return before | {author.id for author in authors}


def _set_series(book: Book, refs: Sequence[SeriesRef], first_author: Author | None) -> set[int]:
    """Replace the series entries; return the ids of series touched."""
    before = set(book.series_entries.values_list("series_id", flat=True))
    book.series_entries.all().delete()
    entries = {}
    for ref in refs:
        series = ref.series
        if not isinstance(series, Series):
            series = series_get_or_create(name=series, author=first_author)
        entries[series.id] = SeriesEntry(
            book=book,
            series=series,
            position=ref.position.start,
            position_end=ref.position.end,
            position_label=ref.position.label,
        )
    SeriesEntry.objects.bulk_create(entries.values())
    return before | set(entries)


def _link_series_authors(series_ids: set[int], authors: list[Author]) -> None:
    if not series_ids or not authors:
        return
    through = Series.authors.through
    existing = set(through.objects.filter(series_id__in=series_ids).values_list("series_id", "author_id"))
    through.objects.bulk_create(
        [
            through(series_id=series_id, author_id=author.id)
            for series_id in series_ids
            for author in authors
            if (series_id, author.id) not in existing
        ]
    )
    for series in Series.objects.filter(id__in=series_ids, primary_author__isnull=True):
        series.primary_author = authors[0]
        # Another series may already own that (name, author) pair; keep it author-less then.
        if not Series.objects.filter(name_key=series.name_key, primary_author=authors[0]).exists():
            series.save(update_fields=["primary_author"])


def _apply(
    book: Book,
    *,
    fields: dict,
    authors: Sequence[Author | str] | None,
    narrators: Sequence[Narrator | str] | None,
    series: Sequence[SeriesRef] | None,
    source: str,
    creating: bool,
    history: History | None = None,
) -> Book:
    confidence = history.confidence if history is not None else None
    stamps = {}
    before = {}  # what the changed fields held, for the history
    for name, value in fields.items():
        if name not in SCALAR_FIELDS:
            raise ValueError(f"Unknown book field {name!r}.")
        current = getattr(book, name)
        if creating or current != value:
            stamps[name] = stamp(source, confidence=confidence)
            if not creating:
                before[name] = current
        setattr(book, name, value)
    if not book.abs_id:
        book.abs_id = None
    passed = [name for name, value in zip(RELATIONS, (authors, narrators, series), strict=True) if value is not None]
    if history is not None and not creating:
        before.update(relation_values(book, passed))
    book.save()

    touched_authors: set[int] = set()
    touched_series: set[int] = set()
    current_authors = None
    if authors is not None:
        current_authors = _resolve_people(authors, Author, author_get_or_create)
        touched_authors = _set_authors(book, current_authors)
        stamps["authors"] = stamp(source, confidence=confidence)
    if narrators is not None:
        book.narrators.set(_resolve_people(narrators, Narrator, narrator_get_or_create))
        stamps["narrators"] = stamp(source, confidence=confidence)
    if current_authors is None:
        current_authors = [link.author for link in book.book_authors.select_related("author")]
    if series is not None:
        touched_series = _set_series(book, series, current_authors[0] if current_authors else None)
        stamps["series"] = stamp(source, confidence=confidence)
    if authors is not None or series is not None:
        _link_series_authors(set(book.series_entries.values_list("series_id", flat=True)), current_authors)
    if "status" in fields:
        touched_authors |= {a.id for a in current_authors}
        touched_series |= set(book.series_entries.values_list("series_id", flat=True))

    book.metadata_sources = {**book.metadata_sources, **stamps}
    book.save(update_fields=["metadata_sources"])
    if history is not None:
        after = {name: getattr(book, name) for name in fields if name in stamps}
        after.update(relation_values(book, passed))
        corrections_write(book=book, before=before, after=after, source=source, history=history)
    series_recalculate_many(series_ids=touched_series)
    author_recalculate_many(author_ids=touched_authors)
    return book


@transaction.atomic
def book_create(
    *,
    fields: dict,
    authors: Sequence[Author | str] = (),
    narrators: Sequence[Narrator | str] = (),
    series: Sequence[SeriesRef] = (),
    source: str = MANUAL,
    user=None,
    history: History | None = None,
) -> Book:
    """Create a book with its authors, narrators and series entries.

    Unknown author, narrator and series names are created.  Updates the cached counts
    of the touched series and authors and records ``source`` for every filled field.
    A person's book (source ``manual``, ``user``) or a write with a ``history`` also gets
    a MetadataCorrection per filled field.
    """
    history = _history(source, user, history, reason="created")
    return _apply(
        Book(),
        fields=fields,
        authors=authors,
        narrators=narrators,
        series=series,
        source=source,
        creating=True,
        history=history,
    )


@transaction.atomic
def book_update(
    *,
    book: Book,
    fields: dict,
    authors: Sequence[Author | str] | None = None,
    narrators: Sequence[Narrator | str] | None = None,
    series: Sequence[SeriesRef] | None = None,
    source: str = MANUAL,
    user=None,
    history: History | None = None,
) -> Book:
    """Change the given fields and, when passed, replace authors, narrators or series.

    A person's edit (source ``manual``, made by ``user``) or a write with a ``history``
    (automatic corrections, reverts) writes a MetadataCorrection per changed field.
    """
    history = _history(source, user, history, reason="edited")
    return _apply(
        book,
        fields=fields,
        authors=authors,
        narrators=narrators,
        series=series,
        source=source,
        creating=False,
        history=history,
    )


def _history(source: str, user, history: History | None, *, reason: str) -> History | None:
    """The history of a write: the one given, a person's edit for source ``manual``, else none."""
    if history is None and source == MANUAL:
        return History(user=user, reason=reason)
    return history


def series_ref(series: Series | str, label) -> SeriesRef:
    """A SeriesRef from a series and a position label; raises ``ValueError`` on a bad label."""
    return SeriesRef(series=series, position=parse_position(label))


@transaction.atomic
def book_set_status(*, books: Sequence[Book], status: str) -> int:
    """Set ``status`` on many books and refresh the counts they feed. Returns how many changed."""
    if status not in BookStatus.values:
        raise ValueError(f"Unknown status {status!r}.")
    ids = [book.id for book in books if book.status != status]
    if not ids:
        return 0
    Book.objects.filter(id__in=ids).update(status=status, updated_at=timezone.now())
    series_recalculate_many(series_ids=SeriesEntry.objects.filter(book_id__in=ids).values_list("series_id", flat=True))
    author_recalculate_many(author_ids=BookAuthor.objects.filter(book_id__in=ids).values_list("author_id", flat=True))
    return len(ids)


def book_archive(*, book: Book) -> Book:
    """Archive ``book`` (the API's delete): it stays with its history but no longer counts as owned."""
    book_set_status(books=[book], status=BookStatus.ARCHIVED)
    book.refresh_from_db()
    return book


@transaction.atomic
def book_delete(*, book: Book) -> None:
    """Delete ``book`` for good (admins only) and refresh the counts it fed."""
    series_ids = list(book.series_entries.values_list("series_id", flat=True))
    author_ids = list(book.book_authors.values_list("author_id", flat=True))
    book.delete()
    series_recalculate_many(series_ids=series_ids)
    author_recalculate_many(author_ids=author_ids)


def _set_locked_fields(books: Sequence[Book], fields: Sequence[str], combine: Callable[[set, set], set]) -> int:
    """Replace each book's ``locked_fields`` by ``combine(locked, fields)``; return how many changed."""
    unknown = sorted(set(fields) - set(LOCKABLE_FIELDS))
    if unknown:
        raise ValueError(f"Fields that cannot be locked: {', '.join(unknown)}.")
    now = timezone.now()
    changed = []
    for book in books:
        locked = sorted(combine(set(book.locked_fields), set(fields)))
        if locked != sorted(book.locked_fields):
            book.locked_fields = locked
            book.updated_at = now
            changed.append(book)
    Book.objects.bulk_update(changed, ["locked_fields", "updated_at"], batch_size=500)
    return len(changed)


@transaction.atomic
def book_lock_fields(*, books: Sequence[Book], fields: Sequence[str]) -> int:
    """Add ``fields`` to each book's ``locked_fields``; automatic corrections skip them."""
    return _set_locked_fields(books, fields, operator.or_)


@transaction.atomic
def book_unlock_fields(*, books: Sequence[Book], fields: Sequence[str]) -> int:
    """Remove ``fields`` from each book's ``locked_fields``."""
    return _set_locked_fields(books, fields, operator.sub)


class BulkAction:
    """What ``book_bulk_apply`` can do to many books at once."""

    ARCHIVE = "archive"
    RESTORE = "restore"
    SET_STATUS = "set_status"
    LOCK = "lock"
    UNLOCK = "unlock"
    ALL = (ARCHIVE, RESTORE, SET_STATUS, LOCK, UNLOCK)


@transaction.atomic
def book_bulk_apply(
    *, book_ids: Sequence[int], action: str, status: str | None = None, fields: Sequence[str] = ()
) -> int:
    """Archive, restore, set the status of, or lock/unlock fields on the given books.

    Status changes refresh the cached counts of the touched series and authors (see
    ``book_set_status``).  Returns how many books actually changed.
    """
    books = list(Book.objects.filter(id__in=set(book_ids)).only("id", "status", "locked_fields"))
    if action == BulkAction.ARCHIVE:
        return book_set_status(books=books, status=BookStatus.ARCHIVED)
    if action == BulkAction.RESTORE:
        return book_set_status(books=books, status=BookStatus.ACTIVE)
    if action == BulkAction.SET_STATUS:
        if status is None:
            raise ValueError("set_status needs a status.")
        return book_set_status(books=books, status=status)
    if action == BulkAction.LOCK:
        return book_lock_fields(books=books, fields=fields)
    if action == BulkAction.UNLOCK:
        return book_unlock_fields(books=books, fields=fields)
    raise ValueError(f"Unknown bulk action {action!r}.")
