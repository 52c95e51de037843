"""Series gaps (SPEC §7.3): positions providers know, or the numbering implies, that no active book owns.

``plan_series`` is the pure decision for one series; ``SeriesGapWriter`` applies the
decisions of a batch of series in a few queries (existing gaps loaded in one query,
``bulk_create``/``bulk_update`` for the changes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction

from library.choices import BookStatus
from library.models import MissingBook, Series, SeriesEntry
from library.models_gaps import GapReason, GapStatus
from library.positions import Position, format_position, parse_position
from library.providers.base import SeriesMember
from library.services.gaps_rules import (
    GapPolicy,
    asin_key,
    default_priority,
    is_fractional,
    isbn13,
    series_priority,
    title_key,
)

# DecimalField(max_digits=8, decimal_places=3): the largest position a gap can hold.
MAX_POSITION = Decimal("99999.999")
THOUSANDTH = Decimal("0.001")
# More integer holes than this in one series are not believed (see ``plan_series``).
MAX_HOLES = 100


@dataclass
class KnownMember:
    """One position of a series as the providers know it together (first provider wins per field)."""

    position: Decimal
    title: str
    authors: list[str] = field(default_factory=list)
    isbn: str = ""
    asin: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)
    published_date: date | None = None
    published_year: int | None = None
    language: str = ""
    sources: list[str] = field(default_factory=list)

    def merge(self, member: SeriesMember) -> None:
        self.title = self.title or member.title
        self.authors = self.authors or list(member.authors)
        self.isbn = self.isbn or isbn13(member.isbn)
        self.asin = self.asin or asin_key(member.asin)
        for name, value in (member.identifiers or {}).items():
            self.identifiers.setdefault(name, value)
        # Out as soon as any provider says so: the earliest date known wins.
        if member.published_date and (self.published_date is None or member.published_date < self.published_date):
            self.published_date = member.published_date
        year = getattr(member, "published_year", None)
        if year and (self.published_year is None or year < self.published_year):
            self.published_year = year
        self.language = self.language or member.language
        if member.provider and member.provider not in self.sources:
            self.sources.append(member.provider)


@dataclass
class PlannedGap:
    """A position the analysis wants recorded as a series gap."""

    position: Decimal
    title: str
    priority: int
    known: KnownMember | None = None  # None for an integer hole nobody knows


@dataclass
class SeriesPlan:
    gaps: list[PlannedGap]
    total_known: int | None  # None: the providers said nothing, keep what the series has


def member_position(member: SeriesMember) -> Decimal | None:
    """The single position a provider gives a member; ranges (box sets) and junk give None."""
    if member.position_label:
        try:
            parsed = parse_position(member.position_label)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.end is not None:
            return None
        if parsed is not None and parsed.start is not None:
            return parsed.start
    position = member.position
    if position is None or position <= 0 or position > MAX_POSITION:
        return None
    return Decimal(position)


def known_members(records: Iterable[SeriesMember]) -> dict[Decimal, KnownMember]:
    """The union of the providers' series lists, by position (records in provider order)."""
    known: dict[Decimal, KnownMember] = {}
    for member in records:
        position = member_position(member)
        if position is None:
            continue
        position = position.quantize(THOUSANDTH)
        entry = known.get(position)
        if entry is None:
            entry = known[position] = KnownMember(position=position, title="")
        entry.merge(member)
    return known


def provider_total(known: dict[Decimal, KnownMember], records: list[SeriesMember]) -> int | None:
    """Books in the series per providers: the highest whole position, else how many they list."""
    whole = [int(position) for position in known if not is_fractional(position)]
    if whole:
        return max(whole)
    return len(records) or None


def plan_series(
    *,
    name: str,
    known: dict[Decimal, KnownMember],
    owned_whole: set[int],
    owned_fractional: set[Decimal],
    policy: GapPolicy,
) -> list[PlannedGap]:
    """The gaps of one series, lowest position first.

    A known position not owned is a gap unless a policy says otherwise: fractional ones with
    ``ignore_fractional``, unpublished ones with ``skip_unreleased`` (else they get the low
    priority), other languages than ``GAPS_LANGUAGES``.  With ``integer_holes`` every whole
    number from 1 to the highest known or owned position that is neither owned nor known is a
    gap too (titled "<series> #n"), unless there would be more than ``MAX_HOLES`` of them.
    """
    planned: list[PlannedGap] = []
    for position in sorted(known):
        member = known[position]
        fractional = is_fractional(position)
        if (position in owned_fractional) if fractional else (int(position) in owned_whole):
            continue
        if fractional and policy.ignore_fractional:
            continue
        unreleased = policy.unreleased(member.published_date, member.published_year)
        if unreleased and policy.skip_unreleased:
            continue
        if not policy.language_ok(member.language):
            continue
        title = member.title or f"{name} #{format_position(position)}"
        planned.append(PlannedGap(position, title, series_priority(position, unreleased), member))
    if policy.integer_holes:
        # Positions known in any form (other language, unpublished) are the providers' call, not holes.
        known_whole = {int(position) for position in known if not is_fractional(position)}
        highest = max(known_whole | owned_whole, default=0)
        holes = [number for number in range(1, highest + 1) if number not in owned_whole | known_whole]
        # Numbering that sparse (a year taken for a position, say) says nothing about missing books.
        for number in holes if len(holes) <= MAX_HOLES else []:
            position = Decimal(number).quantize(THOUSANDTH)
            planned.append(PlannedGap(position, f"{name} #{number}", series_priority(position, False)))
    planned.sort(key=lambda gap: gap.position)
    return planned


@dataclass
class Owned:
    """What the active books of one series own: whole positions and exact fractional ones → a book."""

    whole: dict[int, int] = field(default_factory=dict)
    fractional: dict[Decimal, int] = field(default_factory=dict)

    def book_at(self, position: Decimal) -> int | None:
        if is_fractional(position):
            return self.fractional.get(position)
        return self.whole.get(int(position))


def owned_by_series(series_ids: list[int]) -> dict[int, Owned]:
    """One query: the positions every series' active books cover (an omnibus 5-6 owns 5 and 6)."""
    owned: dict[int, Owned] = defaultdict(Owned)
    # The status is checked in Python, as in ``series_recalculate_many`` (SQLite plans it badly).
    rows = (
        SeriesEntry.objects.filter(series_id__in=series_ids)
        .order_by("series_id", "book_id")
        .values_list("series_id", "book_id", "position", "position_end", "book__status")
    )
    for series_id, book_id, start, end, status in rows:
        if status != BookStatus.ACTIVE or start is None:
            continue
        mine = owned[series_id]
        for number in Position(start, end, "").covered_integers():
            mine.whole.setdefault(number, book_id)
        if end is None and is_fractional(start):
            mine.fractional.setdefault(start.quantize(THOUSANDTH), book_id)
    return owned


@dataclass
class WriteCounts:
    new: int = 0
    updated: int = 0
    resolved: int = 0
    reopened: int = 0


# Fields analysis may change on an existing gap.
UPDATE_FIELDS = [
    "title",
    "title_key",
    "author_names",
    "isbn",
    "asin",
    "identifiers",
    "published_date",
    "language",
    "sources",
    "position_label",
    "priority",
    "status",
    "resolved_book",
    "resolved_at",
    "last_seen",
    "updated_at",
]


def _resolve(gap: MissingBook, book_id: int, now: datetime) -> bool:
    """Mark ``gap`` owned by ``book_id`` (never deleted); False when it already was."""
    if gap.status == GapStatus.COMPLETED and gap.resolved_book_id is not None:
        return False
    gap.status = GapStatus.COMPLETED
    gap.resolved_book_id = book_id
    gap.resolved_at = now
    return True


def _reopen(gap: MissingBook) -> bool:
    """A completed gap whose book is no longer owned (archived, removed) is missing again."""
    if gap.status != GapStatus.COMPLETED:
        return False
    gap.status = GapStatus.IDENTIFIED
    gap.resolved_book_id = None
    gap.resolved_at = None
    return True


def _apply(gap: MissingBook, plan: PlannedGap, policy: GapPolicy) -> bool:
    """Bring an existing gap up to date with ``plan``; True when a stored field changed."""
    before = [getattr(gap, name) for name in UPDATE_FIELDS[:11]]
    previous_default = default_priority(
        reason=gap.reason,
        position=gap.position,
        published=gap.published_date,
        today=gap.last_seen.date() if gap.last_seen else policy.today,
    )
    member = plan.known
    if member is not None:
        # A provider's title beats the "<series> #n" of an integer hole; a hole keeps what it had.
        gap.title = plan.title[:500]
        gap.title_key = title_key(plan.title)
        gap.author_names = member.authors or gap.author_names
        gap.isbn = member.isbn or gap.isbn
        gap.asin = member.asin or gap.asin
        gap.identifiers = {**gap.identifiers, **member.identifiers}
        gap.published_date = member.published_date or gap.published_date
        gap.language = member.language or gap.language
        gap.sources = member.sources
    gap.position_label = format_position(plan.position)
    if gap.priority == previous_default:
        # Only a priority nobody changed follows the rules; a person's choice stays.
        gap.priority = plan.priority
    return [getattr(gap, name) for name in UPDATE_FIELDS[:11]] != before


def _new_gap(series: Series, plan: PlannedGap, now: datetime) -> MissingBook:
    member = plan.known
    primary = series.primary_author
    return MissingBook(
        title=plan.title[:500],
        title_key=title_key(plan.title),
        author_names=(member.authors if member and member.authors else ([primary.name] if primary else [])),
        primary_author_id=series.primary_author_id,
        series_id=series.id,
        position=plan.position,
        position_label=format_position(plan.position),
        reason=GapReason.SERIES_GAP,
        status=GapStatus.IDENTIFIED,
        priority=plan.priority,
        isbn=member.isbn if member else "",
        asin=member.asin if member else "",
        identifiers=dict(member.identifiers) if member else {},
        published_date=member.published_date if member else None,
        language=member.language if member else "",
        sources=list(member.sources) if member else [],
        last_seen=now,
    )


def existing_series_gaps(series_ids: list[int]) -> dict[int, dict[Decimal, MissingBook]]:
    """One query: the series gaps of these series, by series and position."""
    found: dict[int, dict[Decimal, MissingBook]] = defaultdict(dict)
    for gap in MissingBook.objects.filter(series_id__in=series_ids, reason=GapReason.SERIES_GAP).order_by():
        if gap.position is not None:
            found[gap.series_id][gap.position.quantize(THOUSANDTH)] = gap
    return found


@transaction.atomic
def write_series_gaps(
    *,
    series_list: list[Series],
    plans: dict[int, SeriesPlan],
    owned: dict[int, Owned],
    existing: dict[int, dict[Decimal, MissingBook]],
    checked_ids: list[int],
    policy: GapPolicy,
    now: datetime,
) -> WriteCounts:
    """Create, update and resolve the gaps of ``series_list`` and stamp the series as checked.

    Every existing gap whose position an active book now owns is completed with that book as
    ``resolved_book``.  Gaps that are no longer known or planned are left as they are; nothing is
    deleted.  ``checked_ids`` get ``last_checked`` (series whose providers all failed without
    a cached answer are left out, so the next run tries them again); ``total_known`` is set
    where the providers answered.
    """
    counts = WriteCounts()
    new_rows: list[MissingBook] = []
    dirty: list[MissingBook] = []
    seen_ids: list[int] = []
    for series in series_list:
        rows = existing.get(series.id, {})
        mine = owned.get(series.id) or Owned()
        for position, gap in rows.items():
            book_id = mine.book_at(position)
            if book_id is not None and _resolve(gap, book_id, now):
                gap.last_seen, gap.updated_at = now, now
                dirty.append(gap)
                counts.resolved += 1
        plan = plans.get(series.id)
        for planned in plan.gaps if plan else []:
            gap = rows.get(planned.position)
            if gap is None:
                new_rows.append(_new_gap(series, planned, now))
                continue
            reopened = _reopen(gap)
            if _apply(gap, planned, policy) or reopened:
                gap.last_seen, gap.updated_at = now, now
                dirty.append(gap)
                counts.updated += 1
                counts.reopened += reopened
            else:
                seen_ids.append(gap.pk)
    MissingBook.objects.bulk_create(new_rows, batch_size=500)
    counts.new = len(new_rows)
    link_primary_authors(new_rows)
    MissingBook.objects.bulk_update(dirty, UPDATE_FIELDS, batch_size=200)
    for start in range(0, len(seen_ids), 500):
        MissingBook.objects.filter(pk__in=seen_ids[start : start + 500]).update(last_seen=now)
    _stamp_series(series_list, plans, checked_ids, now)
    return counts


def link_primary_authors(gaps: list[MissingBook]) -> None:
    """Link new gaps to their primary author (``authors``), in one INSERT per 500 gaps."""
    through = MissingBook.authors.through
    links = [through(missingbook_id=gap.pk, author_id=gap.primary_author_id) for gap in gaps if gap.primary_author_id]
    through.objects.bulk_create(links, batch_size=500, ignore_conflicts=True)


def _stamp_series(series_list: list[Series], plans: dict[int, SeriesPlan], checked_ids: list[int], now) -> None:
    """``last_checked`` for every checked series in one UPDATE, ``total_known`` one UPDATE per value.

    ``update()`` leaves ``updated_at`` alone, which the incremental selection compares with
    ``last_checked``.
    """
    Series.objects.filter(id__in=checked_ids).update(last_checked=now)
    totals: dict[int, list[int]] = defaultdict(list)
    for series in series_list:
        plan = plans.get(series.id)
        if plan is not None and plan.total_known is not None and plan.total_known != series.total_known:
            totals[plan.total_known].append(series.id)
    for total, ids in totals.items():
        Series.objects.filter(id__in=ids).update(total_known=total)
