"""Metadata correction (SPEC §7.2): ask the providers, keep confident matches, fill or replace.

``book_correct_metadata`` looks a book up through the provider registry (ISBN, ASIN, title
and first author), keeps the records whose identity is confident, merges them field by
field in provider order (``library.services.metadata_merge``) and applies the result:

- by default only empty fields are filled;
- ``overwrite=True`` also replaces a filled field when the candidate's confidence is higher
  than the confidence of the current value's source (``metadata_sources[field]``).  A value
  a person entered (source ``manual``) counts as 1.0 and is never replaced, and so does a
  runtime measured from the files; a stamp without a confidence counts as
  ``SOURCE_CONFIDENCE`` says (``UNKNOWN_CONFIDENCE`` otherwise, or without a stamp);
- ``locked_fields`` are never changed;
- ``series`` is filled when the book has none, its position when the book is in the same
  series without one; a book is never moved into a differently named series.

Every change goes through ``book_update`` with a ``History``, so it writes a
MetadataCorrection (source = provider, confidence, reason, user or job run) and stamps
``metadata_sources[field] = {source, at, confidence}``.  Each check also stamps
``metadata_sources["_checked"] = {"at", "matched", "degraded"}`` (without touching
``updated_at``): the ``metadata_refresh`` job takes the least recently checked books first,
so that no column had to be added to Book for it.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from library import naming
from library.models import Book, BookAuthor, MetadataCorrection, Series, SeriesEntry
from library.positions import Position, parse_position
from library.providers import registry
from library.selectors.metadata import books_to_refresh
from library.services.books import MANUAL, SCALAR_FIELDS, SeriesRef, book_update
from library.services.metadata_history import CHECKED, RELATIONS, History, json_value, relation_values, stamp
from library.services.metadata_merge import (
    Candidate,
    Proposal,
    Target,
    candidates_identify,
    candidates_merge,
    isbn_normalise,
)
from mamcrawler.api.exceptions import AppValidationError, Conflict
from scheduler.context import JobContext

logger = logging.getLogger("mamcrawler.library.metadata")

# How sure a current value is when its stamp records no confidence (people are always sure).
SOURCE_CONFIDENCE = {MANUAL: 1.0, "import": 0.9, "abs": 0.9, "scan": 0.5}
UNKNOWN_CONFIDENCE = 0.5
# A runtime read from the audio files (by the scan or Audiobookshelf) is a measurement, not a guess.
MEASURED_FIELDS = ("duration_seconds",)
MEASURED_BY = ("scan", "abs")
ERROR_LIMIT = 50


class SkipReason:
    LOCKED = "locked"
    MANUAL = "manual"
    LOWER_CONFIDENCE = "lower_confidence"
    NOT_EMPTY = "not_empty"
    DIFFERENT_SERIES = "different_series"
    ALL = (LOCKED, MANUAL, LOWER_CONFIDENCE, NOT_EMPTY, DIFFERENT_SERIES)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: object
    new: object
    source: str
    confidence: float


@dataclass(frozen=True)
class FieldSkip:
    field: str
    reason: str
    source: str
    confidence: float
    value: object


@dataclass
class CorrectionResult:
    """What ``book_correct_metadata`` found and did."""

    book: Book
    candidates: list[Candidate] = field(default_factory=list)
    changed: list[FieldChange] = field(default_factory=list)
    skipped: list[FieldSkip] = field(default_factory=list)
    degraded: list[str] = field(default_factory=list)
    from_cache: list[str] = field(default_factory=list)
    pushed: dict | None = None

    @property
    def matched(self) -> bool:
        return any(candidate.accepted for candidate in self.candidates)

    @property
    def changed_fields(self) -> list[str]:
        return [change.field for change in self.changed]


@dataclass
class LookupResult:
    """A lookup without a book: the merged record and where each field came from."""

    query: dict
    candidates: list[Candidate]
    merged: dict[str, Proposal]
    degraded: list[str]
    from_cache: list[str]


@dataclass(frozen=True)
class RevertResult:
    reverted: MetadataCorrection
    correction: MetadataCorrection | None
    book: Book


def _threshold() -> float:
    return float(settings.METADATA_MATCH_THRESHOLD)


def _tolerance() -> float:
    return float(settings.METADATA_RUNTIME_TOLERANCE)


# --- lookup -----------------------------------------------------------------------------------


def metadata_lookup(
    *, isbn: str = "", asin: str = "", title: str = "", author: str = "", providers: list[str] | None = None
) -> LookupResult:
    """Ask the providers about a book that need not be in the library; writes nothing.

    Records are checked against the query as they would be against a book (identifiers,
    or title and author), then merged field by field.
    """
    target = Target(isbn=isbn, asin=asin, title=title, author=author)
    lookup = registry.lookup_book(isbn=isbn, asin=asin, title=title, author=author, providers=providers)
    candidates = candidates_identify(lookup.records, target, threshold=_threshold(), tolerance=_tolerance())
    query = {"isbn": isbn, "asin": asin, "title": title, "author": author}
    return LookupResult(
        query={key: value for key, value in query.items() if value},
        candidates=candidates,
        merged=candidates_merge(candidates),
        degraded=list(lookup.degraded),
        from_cache=list(lookup.from_cache),
    )


# --- correcting a book ------------------------------------------------------------------------


def _first_author(book: Book) -> str:
    link = BookAuthor.objects.filter(book=book).select_related("author").order_by("position", "id").first()
    return link.author.name if link else ""


def book_target(book: Book) -> Target:
    return Target(
        isbn=book.isbn,
        asin=book.asin,
        title=book.title,
        subtitle=book.subtitle,
        author=_first_author(book),
        duration_seconds=book.duration_seconds,
    )


def book_correct_metadata(
    *,
    book: Book,
    overwrite: bool = False,
    providers: list[str] | None = None,
    source_user=None,
    job_run=None,
) -> CorrectionResult:
    """Correct ``book`` from the providers (module docstring) and return what happened.

    Side effects: provider requests (through the registry and its cache), book writes with
    one MetadataCorrection per changed field (``created_by`` = ``source_user``, or
    ``job_run``), the ``_checked`` stamp, and — with ABS_PUSH_METADATA and a linked book —
    a push of the changed fields to Audiobookshelf (a failed push is logged, not raised).
    """
    target = book_target(book)
    # The network is asked outside the transaction: no lock is held while providers answer.
    lookup = registry.lookup_book(
        isbn=target.isbn, asin=target.asin, title=target.title, author=target.author, providers=providers
    )
    candidates = candidates_identify(lookup.records, target, threshold=_threshold(), tolerance=_tolerance())
    proposals = candidates_merge(candidates)
    with transaction.atomic():
        fresh = Book.objects.select_for_update().get(pk=book.pk)
        result = CorrectionResult(
            book=fresh, candidates=candidates, degraded=list(lookup.degraded), from_cache=list(lookup.from_cache)
        )
        _apply_proposals(fresh, proposals, overwrite=overwrite, user=source_user, job_run=job_run, result=result)
        _mark_checked(fresh, result)
    if result.changed:
        result.pushed = _push(fresh, result.changed_fields)
    return result


class _Current:
    """A book's current values of the merge fields, JSON-safe, and its series entries."""

    def __init__(self, book: Book):
        self.book = book
        self.values = {name: json_value(getattr(book, name)) for name in SCALAR_FIELDS}
        self.values.update(relation_values(book, ("authors", "narrators")))
        self.entries = list(SeriesEntry.objects.filter(book=book).select_related("series").order_by("id"))

    def is_empty(self, name: str) -> bool:
        if name == "series":
            return not self.entries
        if name == "abridged":  # False is also the default: empty until a source has said so
            return name not in (self.book.metadata_sources or {})
        return self.values.get(name) in (None, "", [])

    def same(self, name: str, value) -> bool:
        current = self.values.get(name)
        if name == "authors":
            return [naming.person_key(n) for n in current] == [naming.person_key(n) for n in value]
        if name == "narrators":
            return {naming.person_key(n) for n in current} == {naming.person_key(n) for n in value}
        if name == "isbn":
            return bool(current) and isbn_normalise(current) == isbn_normalise(value)
        return current == json_value(value)

    def series_plan(self, wanted: dict) -> tuple[str, list[SeriesRef] | None, bool]:
        """``("same" | "different" | "change", new entries, whether that fills an empty value)``.

        A book without series joins the wanted one; a book in the same series gets its
        position; a book in other series only is left alone ("different").
        """
        position = parse_position(wanted["position"])
        if not self.entries:
            return "change", [SeriesRef(series=wanted["series"], position=position)], True
        key = naming.name_key(naming.clean(wanted["series"]))
        match = next((entry for entry in self.entries if entry.series.name_key == key), None)
        if match is None:
            return "different", None, False
        if position.start is None or (match.position, match.position_end) == (position.start, position.end):
            return "same", None, False
        refs = [
            SeriesRef(
                series=entry.series,
                position=position
                if entry is match
                else Position(entry.position, entry.position_end, entry.position_label),
            )
            for entry in self.entries
        ]
        return "change", refs, match.position is None


def _current_confidence(name: str, entry) -> float:
    """How sure the current value of field ``name`` is, from its ``metadata_sources`` entry."""
    if not isinstance(entry, dict):
        return UNKNOWN_CONFIDENCE
    if entry.get("source") == MANUAL or (name in MEASURED_FIELDS and entry.get("source") in MEASURED_BY):
        return 1.0
    confidence = entry.get("confidence")
    if isinstance(confidence, (int, float)) and not isinstance(confidence, bool):
        return float(confidence)
    return SOURCE_CONFIDENCE.get(entry.get("source"), UNKNOWN_CONFIDENCE)


def _apply_proposals(
    book: Book, proposals: dict[str, Proposal], *, overwrite: bool, user, job_run, result: CorrectionResult
) -> None:
    """Decide field by field (module docstring), then write each provider's changes at once."""
    current = _Current(book)
    locked = set(book.locked_fields or [])
    sources = book.metadata_sources or {}
    groups: dict[int, dict] = {}
    for name, proposal in proposals.items():
        value = proposal.value
        if name == "series":
            verdict, refs, empty = current.series_plan(value)
            if verdict == "same":
                continue
            if verdict == "different":
                result.skipped.append(_skip(proposal, SkipReason.DIFFERENT_SERIES))
                continue
            old = relation_values(book, ("series",))["series"]
            value = _series_json(refs)
        else:
            if current.same(name, value):
                continue
            empty, old = current.is_empty(name), current.values.get(name)
        if name in locked:
            result.skipped.append(_skip(proposal, SkipReason.LOCKED))
            continue
        if not empty:
            reason = None
            if not overwrite:
                reason = SkipReason.NOT_EMPTY
            elif isinstance(sources.get(name), dict) and sources[name].get("source") == MANUAL:
                reason = SkipReason.MANUAL
            elif proposal.confidence <= _current_confidence(name, sources.get(name)):
                reason = SkipReason.LOWER_CONFIDENCE
            if reason:
                result.skipped.append(_skip(proposal, reason))
                continue
        group = groups.setdefault(id(proposal.candidate), {"candidate": proposal.candidate, "fields": {}})
        if name == "series":
            group["series"] = refs
        elif name in RELATIONS:
            group[name] = value
        else:
            group["fields"][name] = value
        result.changed.append(
            FieldChange(
                field=name, old=old, new=json_value(value), source=proposal.source, confidence=proposal.confidence
            )
        )
    for group in groups.values():
        candidate: Candidate = group.pop("candidate")
        history = History(
            user=user,
            job_run=job_run,
            confidence=candidate.confidence,
            reason=f"{candidate.record.provider}: {candidate.reason}",
        )
        book_update(book=book, source=candidate.source, history=history, **group)


def _series_json(refs: list[SeriesRef]) -> list[dict]:
    """Planned series entries as the history stores them (by series name)."""
    rows = [
        {
            "series": ref.series.name if isinstance(ref.series, Series) else naming.clean(ref.series),
            "position": ref.position.label or None,
        }
        for ref in refs
    ]
    return sorted(rows, key=lambda row: row["series"])


def _skip(proposal: Proposal, reason: str) -> FieldSkip:
    return FieldSkip(
        field=proposal.field,
        reason=reason,
        source=proposal.source,
        confidence=proposal.confidence,
        value=json_value(proposal.value),
    )


def _mark_checked(book: Book, result: CorrectionResult) -> None:
    """Stamp ``_checked`` without changing ``updated_at`` (that one says when the book changed)."""
    entry = stamp("providers")
    entry["matched"] = sorted({c.source for c in result.candidates if c.accepted})
    entry["degraded"] = sorted(result.degraded)
    book.metadata_sources = {**(book.metadata_sources or {}), CHECKED: entry}
    Book.objects.filter(pk=book.pk).update(metadata_sources=book.metadata_sources)


def _push(book: Book, fields: list[str]) -> dict | None:
    """Send the changed fields to Audiobookshelf when asked to; never raises."""
    if not (settings.ABS_PUSH_METADATA and book.abs_id):
        return None
    from library.services.abs_sync import abs_push_metadata  # the ABS client only when pushing

    try:
        return abs_push_metadata(book=book, fields=fields)
    except Exception as exc:  # noqa: BLE001 - a correction stands even when ABS is down
        logger.warning("Pushing %s of book %s to Audiobookshelf failed: %s", ", ".join(fields), book.pk, exc)
        return {"pushed": [], "error": str(exc)[:500]}


# --- revert -----------------------------------------------------------------------------------


def correction_current_value(*, book: Book, field_name: str):
    """The JSON-safe value ``field_name`` of ``book`` has now, as corrections store it."""
    if field_name in RELATIONS:
        return relation_values(book, (field_name,))[field_name]
    if field_name in SCALAR_FIELDS:
        return json_value(getattr(book, field_name))
    raise AppValidationError(f"Field {field_name!r} cannot be restored.")


def _restore_arguments(field_name: str, value) -> dict:
    """``book_update`` arguments that set ``field_name`` back to the stored JSON ``value``."""
    if field_name in ("authors", "narrators"):
        return {"fields": {}, field_name: list(value or [])}
    if field_name == "series":
        refs = [SeriesRef(series=item["series"], position=parse_position(item.get("position"))) for item in value or []]
        return {"fields": {}, "series": refs}
    model_field = Book._meta.get_field(field_name)
    if value is None:
        value = None if model_field.null else model_field.get_default()
    elif model_field.get_internal_type() == "DateField":
        value = date.fromisoformat(value)
    return {"fields": {field_name: value}}


@transaction.atomic
def correction_revert(*, correction: MetadataCorrection, user, force: bool = False) -> RevertResult:
    """Give the field of ``correction`` its old value back, as a person's edit.

    Writes a correction of its own (source ``manual``, reason "revert of #id", ``reverts``
    set) and marks ``correction`` reverted.  Raises Conflict when it was already reverted,
    and — unless ``force`` — when the field is locked or changed again since (a newer
    correction that was not itself undone, or a current value other than ``new_value``).
    """
    correction = MetadataCorrection.objects.select_for_update().get(pk=correction.pk)
    if correction.reverted_at is not None:
        raise Conflict(f"Correction #{correction.pk} was already reverted.", context={"correction": correction.pk})
    book = Book.objects.select_for_update().get(pk=correction.book_id)
    name = correction.field
    current = correction_current_value(book=book, field_name=name)
    if not force:
        if name in (book.locked_fields or []):
            raise Conflict(
                f"Field {name} of book {book.pk} is locked; unlock it or revert with force.",
                context={"correction": correction.pk, "field": name},
            )
        newer = (
            MetadataCorrection.objects.filter(book=book, field=name, pk__gt=correction.pk, reverted_at__isnull=True)
            # A revert of a correction made after this one undoes that one; it changes nothing here.
            .exclude(reverts__gt=correction.pk)
            .order_by("pk")
            .first()
        )
        if newer is not None or current != correction.new_value:
            since = f" by correction #{newer.pk}" if newer is not None else ""
            raise Conflict(
                f"Field {name} of book {book.pk} changed again since correction #{correction.pk}{since}; "
                "revert with force to restore it anyway.",
                context={"correction": correction.pk, "field": name, "newer_correction": newer.pk if newer else None},
            )
    history = History(user=user, reason=f"revert of #{correction.pk}", reverts=correction)
    book_update(book=book, source=MANUAL, history=history, **_restore_arguments(name, correction.old_value))
    correction.reverted_at = timezone.now()
    correction.reverted_by = user if getattr(user, "is_authenticated", False) else None
    correction.save(update_fields=["reverted_at", "reverted_by"])
    written = MetadataCorrection.objects.filter(reverts=correction).order_by("-pk").first()
    return RevertResult(reverted=correction, correction=written, book=book)


# --- the metadata_refresh job -----------------------------------------------------------------


@dataclass
class _RefreshTally:
    """What a metadata_refresh run did, book by book."""

    changed: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    skipped: Counter = field(default_factory=Counter)
    degraded: set[str] = field(default_factory=set)
    from_cache: set[str] = field(default_factory=set)
    errors: list[dict] = field(default_factory=list)
    books_changed: int = 0
    corrections: int = 0

    def correct(self, job: JobContext, book_id: int, *, overwrite: bool, providers: list[str] | None) -> None:
        book = Book.objects.filter(pk=book_id).first()
        if book is None:  # deleted since the batch was chosen
            job.count(processed=1, skipped=1)
            return
        try:
            result = book_correct_metadata(book=book, overwrite=overwrite, providers=providers, job_run=job.run)
        except Exception as exc:  # noqa: BLE001 - one book's failure is recorded; the others go on
            job.count(processed=1, failed=1)
            message = getattr(exc, "detail_text", None) or str(exc) or type(exc).__name__
            job.log("Book %s: %s", book_id, message, level=logging.WARNING)
            if len(self.errors) < ERROR_LIMIT:
                self.errors.append({"book": book_id, "error": message[:500]})
            return
        self.degraded.update(result.degraded)
        self.from_cache.update(result.from_cache)
        for change in result.changed:
            self.changed[change.source][change.field] += 1
        self.skipped.update(skip.reason for skip in result.skipped)
        if result.changed:
            self.books_changed += 1
            self.corrections += len(result.changed)
        job.count(processed=1, succeeded=int(result.matched), skipped=int(not result.matched))


def metadata_refresh_run(
    *,
    job: JobContext,
    limit: int | None = None,
    threshold: int | None = None,
    days: int | None = None,
    book_ids: list[int] | None = None,
    overwrite: bool = False,
    providers: list[str] | None = None,
) -> dict:
    """The ``metadata_refresh`` job: ``book_correct_metadata`` on a batch of books.

    The batch (``library.selectors.metadata.books_to_refresh``): active books, the least
    recently checked first, at most ``limit`` (METADATA_REFRESH_LIMIT); only those below
    ``threshold`` completeness, or added or changed in the last ``days``, or ``book_ids``
    when given.  A book counts as succeeded when a provider matched it, skipped when none
    did, failed when its correction raised (the run goes on).  The summary gives the fields
    changed per source, skipped fields per reason and the degraded providers.
    """
    limit = settings.METADATA_REFRESH_LIMIT if limit is None else int(limit)
    ids = list(
        books_to_refresh(limit=limit, threshold=threshold, days=days, book_ids=book_ids).values_list("pk", flat=True)
    )
    job.log("Checking the metadata of %d book(s).", len(ids))
    tally = _RefreshTally()
    for done, book_id in enumerate(ids, start=1):
        job.check_cancelled()
        tally.correct(job, book_id, overwrite=overwrite, providers=providers)
        job.progress(done, len(ids))
    job.log("Changed %d field(s) of %d book(s).", tally.corrections, tally.books_changed)
    return {
        "selected": len(ids),
        "books_changed": tally.books_changed,
        "fields_changed": tally.corrections,
        "changed_by_source": {source: dict(sorted(fields.items())) for source, fields in sorted(tally.changed.items())},
        "skipped_fields": dict(sorted(tally.skipped.items())),
        "degraded_providers": sorted(tally.degraded),
        "from_cache": sorted(tally.from_cache),
        "errors": tally.errors,
        "options": {
            "limit": limit,
            "threshold": threshold,
            "days": days,
            "book_ids": book_ids,
            "overwrite": overwrite,
            "providers": providers,
        },
    }
