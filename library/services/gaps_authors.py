"""Author gaps (SPEC §7.3): books providers credit to a monitored author that the library lacks.

A provider's book is owned when an active book has its ISBN or ASIN, when one of the
author's active books has the same title (``TitleIndex``: subtitles, "(Unabridged)" and
series suffixes ignored, rapidfuzz ≥ ``AUTHOR_TITLE_MATCH``), or when it names a series
and position the author's series own.  A book that is already a series gap of the author's
series (same title, or same series and position) is left to that gap.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction

from library import naming
from library.choices import BookStatus
from library.models import Author, Book, BookAuthor, MissingBook, Series
from library.models_gaps import GapReason, GapStatus
from library.positions import parse_position
from library.providers.base import BookRecord
from library.services.gaps_rules import (
    GapPolicy,
    TitleIndex,
    TitleKey,
    asin_key,
    author_priority,
    default_priority,
    isbn13,
    person_matches,
)
from library.services.gaps_series import THOUSANDTH, Owned, WriteCounts, link_primary_authors, owned_by_series

UPDATE_FIELDS = [
    "title",
    "author_names",
    "isbn",
    "asin",
    "identifiers",
    "published_date",
    "language",
    "sources",
    "priority",
    "status",
    "resolved_book",
    "resolved_at",
    "last_seen",
    "updated_at",
]
_CONTENT = UPDATE_FIELDS[:9]


@dataclass
class KnownBook:
    """One book of the author as the providers know it together (first provider wins per field)."""

    key: TitleKey
    title: str
    authors: list[str] = field(default_factory=list)
    isbns: list[str] = field(default_factory=list)
    asin: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)
    published_date: date | None = None
    published_year: int | None = None
    language: str = ""
    series_name: str = ""
    series_position: Decimal | None = None
    sources: list[str] = field(default_factory=list)

    @property
    def isbn(self) -> str:
        return self.isbns[0] if self.isbns else ""

    def merge(self, record: BookRecord) -> None:
        self.authors = self.authors or list(record.authors)
        for value in [record.isbn, *getattr(record, "isbns", [])]:
            code = isbn13(value)
            if code and code not in self.isbns:
                self.isbns.append(code)
        self.asin = self.asin or asin_key(record.asin)
        for name, value in (record.identifiers or {}).items():
            self.identifiers.setdefault(name, value)
        if record.published_date and (self.published_date is None or record.published_date < self.published_date):
            self.published_date = record.published_date
        if record.published_year and (self.published_year is None or record.published_year < self.published_year):
            self.published_year = record.published_year
        self.language = self.language or record.language
        if not self.series_name and record.series_name and record.series_position:
            try:
                position = parse_position(record.series_position)
            except ValueError:
                position = None
            if position is not None and position.start is not None and position.end is None:
                self.series_name, self.series_position = record.series_name, position.start.quantize(THOUSANDTH)
        if record.provider and record.provider not in self.sources:
            self.sources.append(record.provider)


def known_books(records: Iterable[BookRecord], *, author: Author, policy: GapPolicy) -> list[KnownBook]:
    """The author's books per providers, one per title (or ISBN) however many providers list it.

    Records that name other people only (a provider's search noise) are dropped.
    """
    index = TitleIndex(policy.title_match)
    by_isbn: dict[str, KnownBook] = {}
    books: list[KnownBook] = []
    for record in records:
        if not record.title or not person_matches(author.name_key, record.authors, policy.title_match):
            continue
        key = TitleKey.of(record.title, record.subtitle)
        if not key.full:
            continue
        same = index.find(key) or by_isbn.get(isbn13(record.isbn))
        if same is None:
            same = KnownBook(key=key, title=_display_title(record))
            index.add(key, same)
            books.append(same)
        same.merge(record)
        for code in same.isbns:
            by_isbn.setdefault(code, same)
    return books


def _display_title(record: BookRecord) -> str:
    title = naming.clean(record.title)
    subtitle = naming.clean(record.subtitle)
    return f"{title}: {subtitle}" if subtitle and ":" not in title else title


@dataclass
class AuthorLibrary:
    """What one author already has: owned books by title, owned series positions, series gaps."""

    titles: TitleIndex
    series: dict[str, int] = field(default_factory=dict)  # series name key → series id
    gap_titles: TitleIndex | None = None
    gap_positions: set[tuple[int, Decimal]] = field(default_factory=set)


@dataclass
class Codes:
    """ISBN-13 and ASIN of every active book → the book (one query per run)."""

    isbn: dict[str, int]
    asin: dict[str, int]

    @classmethod
    def load(cls) -> Codes:
        isbns: dict[str, int] = {}
        asins: dict[str, int] = {}
        rows = (
            Book.objects.filter(status=BookStatus.ACTIVE)
            .exclude(isbn="", asin="")
            .order_by("id")
            .values_list("id", "isbn", "asin")
        )
        for book_id, isbn, asin in rows:
            if code := isbn13(isbn):
                isbns.setdefault(code, book_id)
            if code := asin_key(asin):
                asins.setdefault(code, book_id)
        return cls(isbns, asins)

    def find(self, isbns: Iterable[str], asin: str) -> int | None:
        for code in isbns:
            if code in self.isbn:
                return self.isbn[code]
        return self.asin.get(asin) if asin else None


def author_libraries(author_ids: list[int], threshold: int) -> tuple[dict[int, AuthorLibrary], dict[int, Owned]]:
    """Four queries for a batch of authors: their active books, series, owned positions, series gaps."""
    libraries = {author_id: AuthorLibrary(titles=TitleIndex(threshold)) for author_id in author_ids}
    links = (
        BookAuthor.objects.filter(author_id__in=author_ids)
        .order_by("author_id", "book_id")
        .values_list("author_id", "book_id", "book__title", "book__subtitle", "book__status")
    )
    for author_id, book_id, title, subtitle, status in links:
        if status == BookStatus.ACTIVE:
            libraries[author_id].titles.add(TitleKey.of(title, subtitle), book_id)
    series_rows = list(
        Series.objects.filter(primary_author_id__in=author_ids).values_list("id", "primary_author_id", "name_key")
    )
    for series_id, author_id, name_key in series_rows:
        libraries[author_id].series.setdefault(name_key, series_id)
    owned = owned_by_series([series_id for series_id, _author, _key in series_rows])
    gaps = MissingBook.objects.filter(primary_author_id__in=author_ids, reason=GapReason.SERIES_GAP).values_list(
        "primary_author_id", "series_id", "position", "title"
    )
    for author_id, series_id, position, title in gaps:
        library = libraries[author_id]
        if library.gap_titles is None:
            library.gap_titles = TitleIndex(threshold)
        library.gap_titles.add(TitleKey.of(title), True)
        if series_id is not None and position is not None:
            library.gap_positions.add((series_id, position.quantize(THOUSANDTH)))
    return libraries, owned


@dataclass
class ExistingGaps:
    """An author's author gaps and wishlist items (they share the unique (author, title_key))."""

    by_key: dict[str, MissingBook] = field(default_factory=dict)
    index: TitleIndex | None = None


def existing_author_gaps(author_ids: list[int], threshold: int) -> dict[int, ExistingGaps]:
    found: dict[int, ExistingGaps] = defaultdict(ExistingGaps)
    rows = MissingBook.objects.filter(
        primary_author_id__in=author_ids, reason__in=[GapReason.AUTHOR_GAP, GapReason.WISHLIST]
    ).order_by("id")
    for gap in rows:
        mine = found[gap.primary_author_id]
        mine.by_key.setdefault(gap.title_key, gap)
        if mine.index is None:
            mine.index = TitleIndex(threshold)
        mine.index.add(TitleKey.of(gap.title), gap)
    return found


@dataclass
class AuthorPlan:
    books: list[KnownBook]
    known_count: int | None  # None: providers said nothing; keep ``books_known``


class AuthorGapPlanner:
    """Decides, for one author, which known books are gaps, and which existing gaps are now owned."""

    def __init__(self, *, policy: GapPolicy, codes: Codes, library: AuthorLibrary, owned: dict[int, Owned]):
        self.policy = policy
        self.codes = codes
        self.library = library
        self.owned = owned

    def owning_book(self, *, key: TitleKey, isbns: Iterable[str], asin: str, series_name: str = "", position=None):
        """The active book that is this one, or None."""
        book_id = self.codes.find(isbns, asin)
        if book_id is None:
            book_id = self.library.titles.find(key)
        series_id = self._series_id(series_name)
        if book_id is None and series_id is not None and position is not None:
            book_id = (self.owned.get(series_id) or Owned()).book_at(position)
        return book_id

    def is_series_gap(self, book: KnownBook) -> bool:
        series_id = self._series_id(book.series_name)
        if series_id is not None and (series_id, book.series_position) in self.library.gap_positions:
            return True
        return self.library.gap_titles is not None and self.library.gap_titles.find(book.key) is not None

    def _series_id(self, name: str) -> int | None:
        return self.library.series.get(naming.name_key(naming.clean(name))) if name else None

    def wanted(self, books: list[KnownBook]) -> tuple[list[tuple[KnownBook, int]], int]:
        """(book, priority) for each gap, and how many were skipped as series gaps."""
        wanted: list[tuple[KnownBook, int]] = []
        as_series_gap = 0
        for book in books:
            if not self.policy.language_ok(book.language):
                continue
            owning = self.owning_book(
                key=book.key,
                isbns=book.isbns,
                asin=book.asin,
                series_name=book.series_name,
                position=book.series_position,
            )
            if owning is not None:
                continue
            if self.is_series_gap(book):
                as_series_gap += 1
                continue
            unreleased = self.policy.unreleased(book.published_date, book.published_year)
            if unreleased and self.policy.skip_unreleased:
                continue
            wanted.append((book, author_priority(unreleased)))
        return wanted, as_series_gap


def _apply(gap: MissingBook, book: KnownBook, priority: int, policy: GapPolicy) -> bool:
    before = [getattr(gap, name) for name in _CONTENT]
    previous_default = default_priority(
        reason=gap.reason,
        position=None,
        published=gap.published_date,
        today=gap.last_seen.date() if gap.last_seen else policy.today,
    )
    gap.title = book.title[:500]
    gap.author_names = book.authors or gap.author_names
    gap.isbn = book.isbn or gap.isbn
    gap.asin = book.asin or gap.asin
    gap.identifiers = {**gap.identifiers, **book.identifiers}
    gap.published_date = book.published_date or gap.published_date
    gap.language = book.language or gap.language
    gap.sources = book.sources
    if gap.priority == previous_default:
        gap.priority = priority
    return [getattr(gap, name) for name in _CONTENT] != before


def _new_gap(author: Author, book: KnownBook, priority: int, now: datetime) -> MissingBook:
    return MissingBook(
        title=book.title[:500],
        title_key=book.key.full[:500],
        author_names=book.authors or [author.name],
        primary_author_id=author.id,
        reason=GapReason.AUTHOR_GAP,
        status=GapStatus.IDENTIFIED,
        priority=priority,
        isbn=book.isbn,
        asin=book.asin,
        identifiers=dict(book.identifiers),
        published_date=book.published_date,
        language=book.language,
        sources=list(book.sources),
        last_seen=now,
    )


@dataclass
class AuthorBatch:
    """The writes a batch of authors needs, gathered author by author, done at once."""

    new: list[MissingBook] = field(default_factory=list)
    dirty: list[MissingBook] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)
    counts: WriteCounts = field(default_factory=WriteCounts)
    skipped_as_series_gaps: int = 0


def plan_author(
    *,
    author: Author,
    books: list[KnownBook] | None,
    planner: AuthorGapPlanner,
    existing: ExistingGaps,
    batch: AuthorBatch,
    now: datetime,
) -> None:
    """Resolve the author's gaps that are now owned, then update or add a gap per wanted book.

    ``books`` None means the providers could not answer: only the resolution runs.
    Wishlist items are never changed here; a wanted book that is one of them is skipped.
    """
    for gap in existing.by_key.values():
        if gap.reason != GapReason.AUTHOR_GAP:
            continue
        book_id = planner.owning_book(key=TitleKey.of(gap.title), isbns=[gap.isbn] if gap.isbn else [], asin=gap.asin)
        if book_id is not None and not (gap.status == GapStatus.COMPLETED and gap.resolved_book_id):
            gap.status, gap.resolved_book_id, gap.resolved_at = GapStatus.COMPLETED, book_id, now
            gap.last_seen, gap.updated_at = now, now
            batch.dirty.append(gap)
            batch.counts.resolved += 1
    if books is None:
        return
    wanted, as_series_gap = planner.wanted(books)
    batch.skipped_as_series_gaps += as_series_gap
    used: set[int] = set()
    taken = set(existing.by_key)
    for book, priority in wanted:
        gap = existing.by_key.get(book.key.full)
        if gap is None and existing.index is not None:
            gap = existing.index.find(book.key)
        if gap is not None and gap.pk in used:
            continue  # two provider titles for one stored gap: the first one updates it
        if gap is None:
            if book.key.full[:500] in taken:
                continue
            taken.add(book.key.full[:500])
            batch.new.append(_new_gap(author, book, priority, now))
            continue
        used.add(gap.pk)
        if gap.reason != GapReason.AUTHOR_GAP:
            continue  # already on the wishlist
        reopened = gap.status == GapStatus.COMPLETED
        if reopened:
            gap.status, gap.resolved_book_id, gap.resolved_at = GapStatus.IDENTIFIED, None, None
        if _apply(gap, book, priority, planner.policy) or reopened:
            gap.last_seen, gap.updated_at = now, now
            if gap not in batch.dirty:
                batch.dirty.append(gap)
            batch.counts.updated += 1
            batch.counts.reopened += reopened
        else:
            batch.seen.append(gap.pk)


@transaction.atomic
def write_author_gaps(
    *, batch: AuthorBatch, plans: dict[int, AuthorPlan], checked_ids: list[int], now: datetime
) -> WriteCounts:
    """Apply a batch: new gaps (linked to their author), changed ones, ``last_seen`` of the rest,
    and ``last_checked`` / ``books_known`` of the checked authors (``update()``: ``updated_at``
    stays, which the incremental selection compares)."""
    MissingBook.objects.bulk_create(batch.new, batch_size=500)
    batch.counts.new = len(batch.new)
    link_primary_authors(batch.new)
    MissingBook.objects.bulk_update(batch.dirty, UPDATE_FIELDS, batch_size=200)
    for start in range(0, len(batch.seen), 500):
        MissingBook.objects.filter(pk__in=batch.seen[start : start + 500]).update(last_seen=now)
    Author.objects.filter(id__in=checked_ids).update(last_checked=now)
    known: dict[int, list[int]] = defaultdict(list)
    for author_id, plan in plans.items():
        if plan.known_count is not None:
            known[plan.known_count].append(author_id)
    for count, ids in known.items():
        Author.objects.filter(id__in=ids).update(books_known=count)
    return batch.counts
