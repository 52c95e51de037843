"""Import lists (SPEC §9): books on a Goodreads shelf or Hardcover's "want to read" become wishlist gaps.

For each configured source (``GOODREADS_RSS_URL``, ``HARDCOVER_TOKEN``) every listed book is:

* *owned* — an active book has one of its ISBNs or ASINs, or one of its author's active books
  has the same title, or its series position is owned (the author-gap matching of
  ``gaps_authors``: ``Codes`` and ``AuthorGapPlanner.owning_book``) — left alone;
* *existing* — already a gap of any reason (same ISBN/ASIN, one of the author's series gaps,
  or an author gap / wishlist item of the same primary author and title) — a wishlist item
  gets its ``last_seen`` (and the source) updated, nothing is duplicated;
* *read* — on the Goodreads "read" shelf: not wanted (it may mark the owned book finished in
  Audiobookshelf instead, below);
* otherwise *created*: a ``wishlist`` gap, status ``wanted``, priority 2, its primary author
  found or created by normalised name.

With ``ABS_PUSH_PROGRESS=true`` a Goodreads book that is read and owned by a book with an
``abs_id`` is marked finished in Audiobookshelf (``PATCH /api/me/progress/{id}``), once per
reading: the read date sent is remembered in ``ProviderCache`` (provider ``goodreads``, key
``finished:<abs id>``) and only a different one is sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from library import naming
from library.integrations.audiobookshelf import AudiobookshelfClient, abs_configured
from library.integrations.goodreads import GoodreadsBook, GoodreadsClient, goodreads_configured
from library.integrations.hardcover_lists import HardcoverLists, hardcover_lists_configured
from library.models import Author, Book, MissingBook, ProviderCache
from library.models_gaps import GapReason, GapStatus
from library.providers.base import BookRecord
from library.services.gaps_authors import (
    AuthorGapPlanner,
    AuthorLibrary,
    Codes,
    ExistingGaps,
    KnownBook,
    author_libraries,
    existing_author_gaps,
)
from library.services.gaps_rules import PRIORITY_AUTHOR, GapPolicy, TitleIndex, TitleKey, asin_key, isbn13
from library.services.gaps_series import Owned
from library.services.people import author_get_or_create
from mamcrawler.api.exceptions import ExternalApiError
from scheduler.context import JobContext

logger = logging.getLogger("mamcrawler.library")

SERVICE = "Import lists"
WISHLIST_PRIORITY = PRIORITY_AUTHOR
# The "finished" marks sent to Audiobookshelf are remembered this long (``cleanup`` keeps them).
PUSHED_DAYS = 3650
PUSHED_PROVIDER = "goodreads"

OUTCOMES = ("created", "existing", "owned", "read", "unusable")


@dataclass
class SourceCounts:
    items: int = 0
    created: int = 0
    existing: int = 0
    owned: int = 0
    read: int = 0
    unusable: int = 0


@dataclass
class Match:
    outcome: str
    book_id: int | None = None  # the owning book
    gap: MissingBook | None = None  # the wishlist item to touch


def _sources() -> list[tuple[str, Callable[[], list[BookRecord]]]]:
    """(name, fetch) of the configured sources, in a fixed order."""
    sources = []
    if goodreads_configured():

        def goodreads() -> list[BookRecord]:
            with GoodreadsClient.from_settings() as client:
                return client.shelf()

        sources.append(("goodreads", goodreads))
    if hardcover_lists_configured():

        def hardcover() -> list[BookRecord]:
            with HardcoverLists() as provider:
                return provider.want_to_read()

        sources.append(("hardcover", hardcover))
    return sources


def _asins(record: BookRecord) -> list[str]:
    values = [record.asin, *getattr(record, "asins", [])]
    return [code for code in dict.fromkeys(asin_key(value) for value in values) if code]


class _Wishlist:
    """What the run knows about the library and its gaps, loaded per batch of authors, kept up to date."""

    def __init__(self, now: datetime):
        self.now = now
        self.policy = GapPolicy.from_settings()
        self.codes = Codes.load()
        self.authors: dict[str, Author | None] = {}  # person key → author (None: unknown)
        self.libraries: dict[int, AuthorLibrary] = {}
        self.owned: dict[int, Owned] = {}  # series id → owned positions
        self.gaps: dict[int, ExistingGaps] = {}
        self.gap_codes: dict[str, MissingBook] = {}  # ISBN-13 / ASIN → a gap of any reason

    def load(self, records: list[BookRecord]) -> None:
        """A few queries per source: its authors, those authors' books, series and gaps, and gaps by ISBN/ASIN."""
        keys = {naming.person_key(name) for record in records for name in record.authors} - set(self.authors)
        found = list(Author.objects.filter(name_key__in=keys)) if keys else []
        for author in found:
            self.authors[author.name_key] = author
        for key in keys:
            self.authors.setdefault(key, None)
        ids = [author.id for author in found]
        if ids:
            libraries, owned = author_libraries(ids, self.policy.title_match)
            self.libraries.update(libraries)
            self.owned.update(owned)
            self.gaps.update(existing_author_gaps(ids, self.policy.title_match))
        isbns = {code for record in records for code in map(isbn13, [record.isbn, *record.isbns]) if code}
        asins = {code for record in records for code in _asins(record)}
        if isbns or asins:
            rows = MissingBook.objects.filter(Q(isbn__in=isbns) | Q(asin__in=asins)).order_by("id")
            for gap in rows:
                for code in (gap.isbn, gap.asin):
                    if code:
                        self.gap_codes.setdefault(code, gap)

    def _planner(self, author_id: int | None) -> AuthorGapPlanner:
        library = self.libraries.get(author_id) if author_id else None
        return AuthorGapPlanner(
            policy=self.policy,
            codes=self.codes,
            library=library or AuthorLibrary(titles=TitleIndex(self.policy.title_match)),
            owned=self.owned,
        )

    def match(self, record: BookRecord, known: KnownBook) -> Match:
        """What the listed book already is: owned, a gap, or nothing yet ("created" to do)."""
        asins = _asins(record)
        book_id = next((self.codes.asin[code] for code in asins if code in self.codes.asin), None)
        authors = [self.authors.get(naming.person_key(name)) for name in record.authors]
        authors = [author for author in authors if author is not None]
        for author in authors or [None]:
            if book_id is not None:
                break
            book_id = self._planner(author.id if author else None).owning_book(
                key=known.key,
                isbns=known.isbns,
                asin="",
                series_name=known.series_name,
                position=known.series_position,
            )
        if book_id is not None:
            return Match("owned", book_id=book_id)
        for code in [*known.isbns, *asins]:
            if code in self.gap_codes:
                return self._existing(self.gap_codes[code])
        for author in authors:
            mine = self.gaps.get(author.id)
            if mine is not None:
                gap = mine.by_key.get(known.key.full[:500])
                if gap is None and mine.index is not None:
                    gap = mine.index.find(known.key)
                if gap is not None:
                    return self._existing(gap)
            if self._planner(author.id).is_series_gap(known):
                return Match("existing")
        return Match("created")

    @staticmethod
    def _existing(gap: MissingBook) -> Match:
        return Match("existing", gap=gap if gap.reason == GapReason.WISHLIST else None)

    def remember(self, gap: MissingBook, author: Author) -> None:
        """A new gap is found again by later books of this run (another source may list it too)."""
        self.authors[author.name_key] = author
        mine = self.gaps.setdefault(author.id, ExistingGaps())
        mine.by_key.setdefault(gap.title_key, gap)
        if mine.index is None:
            mine.index = TitleIndex(self.policy.title_match)
        mine.index.add(TitleKey.of(gap.title), gap)
        for code in (gap.isbn, gap.asin):
            if code:
                self.gap_codes.setdefault(code, gap)


def _known(record: BookRecord) -> KnownBook:
    known = KnownBook(key=TitleKey.of(record.title, record.subtitle), title=naming.clean(record.title)[:500])
    known.merge(record)
    return known


def _touch(gap: MissingBook, source: str, now: datetime) -> None:
    """Seen again on a list: ``last_seen``, and the source added to ``sources``."""
    gap.last_seen = now
    fields = ["last_seen", "updated_at"]
    if source not in (gap.sources or []):
        gap.sources = [*(gap.sources or []), source]
        fields.append("sources")
    gap.save(update_fields=fields)


def _create(record: BookRecord, known: KnownBook, source: str, wishlist: _Wishlist) -> MissingBook | None:
    """A new wanted wishlist gap; None when a concurrent run created it first."""
    authors = [wishlist.authors.get(naming.person_key(name)) for name in record.authors]
    primary = next((author for author in authors if author is not None), None)
    if primary is None:
        primary = author_get_or_create(name=record.authors[0])
    gap = MissingBook(
        title=known.title,
        title_key=known.key.full[:500],
        author_names=known.authors,
        primary_author=primary,
        reason=GapReason.WISHLIST,
        status=GapStatus.WANTED,
        priority=WISHLIST_PRIORITY,
        isbn=known.isbn,
        asin=next(iter(_asins(record)), ""),
        identifiers=dict(known.identifiers),
        published_date=known.published_date,
        language=known.language,
        sources=[source],
        last_seen=wishlist.now,
    )
    try:
        with transaction.atomic():
            gap.save()
    except IntegrityError:
        return None
    gap.authors.set({primary.id, *(author.id for author in authors if author is not None)})
    wishlist.remember(gap, primary)
    return gap


def _import_source(
    *, job: JobContext, source: str, records: list[BookRecord], wishlist: _Wishlist, reads: list
) -> SourceCounts:
    counts = SourceCounts(items=len(records))
    wishlist.load(records)
    for index, record in enumerate(records, start=1):
        job.check_cancelled()
        if not record.title or not record.authors:
            outcome = "unusable"
        else:
            known = _known(record)
            match = wishlist.match(record, known)
            outcome = match.outcome
            if isinstance(record, GoodreadsBook) and record.is_read:
                if outcome == "owned":
                    reads.append((record, match.book_id))
                if outcome != "existing":
                    outcome = "read"  # a read book is not wanted, and an owned one is counted once
            if outcome == "existing" and match.gap is not None:
                _touch(match.gap, source, wishlist.now)
            elif outcome == "created" and _create(record, known, source, wishlist) is None:
                outcome = "existing"
        setattr(counts, outcome, getattr(counts, outcome) + 1)
        job.count(processed=1, succeeded=int(outcome == "created"), skipped=int(outcome != "created"))
        job.progress(index, len(records))
    return counts


def _push_finished(*, job: JobContext, reads: list[tuple[GoodreadsBook, int]]) -> dict:
    """Mark owned books read on Goodreads finished in Audiobookshelf, once per read date."""
    abs_ids = dict(Book.objects.filter(id__in=[book_id for _record, book_id in reads]).values_list("id", "abs_id"))
    wanted = {abs_ids[book_id]: record.read_at or "read" for record, book_id in reads if abs_ids.get(book_id)}
    result = {"finished_pushed": 0, "finished_unchanged": 0, "finished_errors": []}
    if not wanted:
        return result
    keys = {f"finished:{abs_id}": abs_id for abs_id in wanted}
    sent = dict(
        ProviderCache.objects.filter(provider=PUSHED_PROVIDER, key__in=keys).values_list("key", "payload__read_at")
    )
    todo = [abs_id for key, abs_id in keys.items() if sent.get(key) != wanted[abs_id]]
    result["finished_unchanged"] = len(wanted) - len(todo)
    if not todo:
        return result
    now = timezone.now()
    with AudiobookshelfClient.from_settings() as client:
        for abs_id in todo:
            try:
                client.mark_finished(abs_id)
            except ExternalApiError as exc:
                job.log("Could not mark %s finished in Audiobookshelf: %s", abs_id, exc, level=logging.WARNING)
                result["finished_errors"].append(f"{abs_id}: {exc}")
                if not exc.retryable and (exc.context or {}).get("status_code") in (401, 403):
                    break  # the key is refused: every other item would be too
                continue
            ProviderCache.objects.update_or_create(
                provider=PUSHED_PROVIDER,
                key=f"finished:{abs_id}",
                defaults={
                    "payload": {"read_at": wanted[abs_id]},
                    "status": 200,
                    "fetched_at": now,
                    "expires_at": now + timedelta(days=PUSHED_DAYS),
                },
            )
            result["finished_pushed"] += 1
    job.log("Marked %d book(s) finished in Audiobookshelf.", result["finished_pushed"])
    return result


def import_lists_run(*, job: JobContext) -> dict:
    """The ``import_lists`` job: wishlist gaps from the configured lists (module docstring).

    Side effects: HTTP requests to Goodreads / Hardcover (and Audiobookshelf with
    ``ABS_PUSH_PROGRESS``), MissingBooks created or touched, Authors created for new names,
    ProviderCache rows for the finished marks.  A source that fails is reported in the
    summary and the others still import; raises ``ExternalApiError`` when no source is
    configured or every configured one failed.  Counters: processed = listed books,
    succeeded = gaps created, skipped = the others, failed = sources that failed.
    """
    sources = _sources()
    if not sources:
        raise ExternalApiError(
            f"{SERVICE} are not configured: set GOODREADS_RSS_URL or HARDCOVER_TOKEN.", service=SERVICE, retryable=False
        )
    wishlist = _Wishlist(timezone.now())
    summary: dict = {**dict.fromkeys(OUTCOMES, 0), "sources": {}}
    reads: list[tuple[GoodreadsBook, int]] = []
    errors = []
    for name, fetch in sources:
        try:
            records = fetch()
        except ExternalApiError as exc:
            job.log("%s failed: %s", name, exc, level=logging.ERROR)
            job.count(failed=1)
            summary["sources"][name] = {"error": str(exc)}
            errors.append(str(exc))
            continue
        counts = _import_source(job=job, source=name, records=records, wishlist=wishlist, reads=reads)
        summary["sources"][name] = vars(counts)
        for outcome in OUTCOMES:
            summary[outcome] += getattr(counts, outcome)
        job.log(
            "%s: %d listed, %d new wishlist gaps, %d owned, %d already gaps, %d read.",
            name,
            counts.items,
            counts.created,
            counts.owned,
            counts.existing,
            counts.read,
        )
    if len(errors) == len(sources):
        job.run.summary = summary  # kept on the failed run
        raise ExternalApiError(f"Every list failed: {' | '.join(errors)}", service=SERVICE, retryable=True)
    if settings.ABS_PUSH_PROGRESS and reads:
        if abs_configured():
            summary.update(_push_finished(job=job, reads=reads))
        else:
            job.log("ABS_PUSH_PROGRESS is on but Audiobookshelf is not configured.", level=logging.WARNING)
    return summary
