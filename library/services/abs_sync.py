"""Audiobookshelf sync (SPEC §9): ABS library items become Books keyed on ``abs_id``.

Rules of the sync, field by field (scalars, authors, narrators, series):

- A new item is matched to an existing, unlinked book (``abs_id`` empty) by file path
  (a BookFile under the item's ``path``, or under LIBRARY_ROOT/``relPath``), then ISBN,
  ASIN, then normalised title + first author; only when nothing matches is a book created.
- An existing book follows Audiobookshelf for a field when our value is empty or came from
  Audiobookshelf (``metadata_sources[field].source == "abs"``) and the field is not in
  ``locked_fields``.  Everything written is recorded with source ``abs``.
- **Drift** is a field whose values differ between our book and its Audiobookshelf item
  after that rule: our value is locked, or it came from elsewhere (a person's edit, a
  provider, the folder scan, …) and is therefore kept.  Technical fields (duration, size)
  are followed or filled but never reported as drift.  The JobRun summary lists at most
  ``DRIFT_LIMIT`` entries ``{book, abs_id, field, ours, theirs, our_source, locked}`` and
  counts all of them; with push on, our side of each drifted field is sent to
  Audiobookshelf (``PATCH /api/items/{id}/media``) instead of being reported.

Network failures: a page that still fails after the client's retries is recorded in the
summary and the sync goes on with the next library; bad credentials stop the run.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from library.integrations.audiobookshelf import SERVICE, AudiobookshelfClient, ItemPage, abs_configured
from library.models import Book
from library.services.abs_mapping import (
    RELATIONS,
    SCALARS,
    AbsItem,
    abs_item_map,
    comparison_key,
    entry_label,
    is_empty,
    ours,
    shorten,
    source_of,
    theirs,
)
from library.services.abs_matching import BookMatcher, PeopleCache, books_create_many, books_with_relations
from library.services.books import book_create, book_update
from mamcrawler.api.exceptions import ExternalApiError
from scheduler.context import JobContext

logger = logging.getLogger("mamcrawler.library.abs")

SOURCE = "abs"
DRIFT_LIMIT = 100
ERROR_LIMIT = 50
DRIFT_FIELDS = (
    "title",
    "subtitle",
    "authors",
    "narrators",
    "series",
    "isbn",
    "asin",
    "publisher",
    "published_year",
    "language",
    "description",
)
# Our field → the key of Audiobookshelf's ``media.metadata`` (relations are built separately).
ABS_METADATA_KEYS = {
    "title": "title",
    "subtitle": "subtitle",
    "isbn": "isbn",
    "asin": "asin",
    "publisher": "publisher",
    "published_year": "publishedYear",
    "published_date": "publishedDate",
    "language": "language",
    "description": "description",
    "authors": "authors",
    "narrators": "narrators",
    "series": "series",
}


@dataclass
class _Plan:
    """What to do with one item: create a book, or change some fields of ``book``."""

    item: AbsItem
    book: Book | None = None
    linked_by: str | None = None
    changes: dict = field(default_factory=dict)
    drift: list[dict] = field(default_factory=list)


def _compare(book: Book, item: AbsItem, plan: _Plan) -> None:
    """Fill ``plan.changes`` (fields to follow) and ``plan.drift`` (differences we keep)."""
    locked = set(book.locked_fields or [])
    for name in (*SCALARS, *RELATIONS):
        if comparison_key(book, name) == comparison_key(item, name):
            continue
        value, source = ours(book, name), source_of(book, name)
        if name not in locked and (is_empty(value) or source == SOURCE):
            plan.changes[name] = theirs(item, name)
        elif name in DRIFT_FIELDS:
            plan.drift.append(
                {
                    "book": book.pk,
                    "abs_id": item.abs_id,
                    "field": name,
                    "ours": shorten(value),
                    "theirs": shorten(theirs(item, name)),
                    "our_source": source,
                    "locked": name in locked,
                }
            )


# --- the run -----------------------------------------------------------------------------


def _is_auth_error(exc: ExternalApiError) -> bool:
    return (exc.context or {}).get("status_code") in (401, 403)


def _message(exc: ExternalApiError) -> str:
    return exc.detail_text or exc.message


class _Sync:
    """One run of the sync; see the module docstring for the rules."""

    def __init__(self, *, job: JobContext, client: AudiobookshelfClient, push: bool):
        self.job = job
        self.client = client
        self.push = push
        self.matcher = BookMatcher()
        self.people = PeopleCache()
        self.counts: Counter = Counter()
        self.linked: Counter = Counter()
        self.libraries: list[dict] = []
        self.skipped_libraries: list[dict] = []
        self.errors: list[dict] = []
        self.error_count = 0
        self.drift: list[dict] = []
        self.drift_count = 0
        self.drift_fields: Counter = Counter()
        self.pushed_books = 0
        self.seen: set[str] = set()
        self.total = 0
        self.done = 0

    def run(self) -> dict:
        started = time.monotonic()
        for library in self.client.libraries():
            media_type = library.get("mediaType") or "book"
            if media_type != "book":
                self.skipped_libraries.append(
                    {"id": library["id"], "name": library.get("name"), "media_type": media_type}
                )
                continue
            self._library(library)
        summary = {
            "libraries": self.libraries,
            "skipped_libraries": self.skipped_libraries,
            "created": self.counts["created"],
            "updated": self.counts["updated"],
            "unchanged": self.counts["unchanged"],
            "failed": self.counts["failed"],
            "linked": {how: self.linked[how] for how in ("path", "isbn", "asin", "title_author")},
            "retries": self.client.retried,
            "error_count": self.error_count,
            "errors": self.errors,
            "drift_count": self.drift_count,
            "drift_fields": dict(sorted(self.drift_fields.items())),
            "drift": self.drift,
            "push": self.push,
            "pushed": self.pushed_books,
            "not_in_abs": self._not_in_abs(),
            "seconds": round(time.monotonic() - started, 3),
        }
        self.job.log(
            "Audiobookshelf sync: %d created, %d updated, %d unchanged, %d failed, %d drifted fields, %d errors.",
            summary["created"],
            summary["updated"],
            summary["unchanged"],
            summary["failed"],
            self.drift_count,
            self.error_count,
        )
        return summary

    def _error(self, entry: dict) -> None:
        self.error_count += 1
        if len(self.errors) < ERROR_LIMIT:
            self.errors.append(entry)

    def _library(self, library: dict) -> None:
        report = {
            "id": library["id"],
            "name": library.get("name") or "",
            "total": None,
            "read": 0,
            **dict.fromkeys(("created", "updated", "unchanged", "failed"), 0),
            "error": None,
        }
        self.libraries.append(report)
        page_number = 0
        try:
            for page in self.client.item_pages(library["id"]):
                self.job.check_cancelled()
                if report["total"] is None:
                    self.total += page.total
                report["total"] = page.total
                self._page(page, report)
                report["read"] += len(page.items)
                page_number += 1
        except ExternalApiError as exc:
            if _is_auth_error(exc):
                raise
            report["error"] = _message(exc)
            self._error({"library": library["id"], "page": page_number, "error": report["error"]})
            self.job.count(failed=1)
            self.job.log(
                "Library %s: page %d failed, going on with the next library: %s",
                report["name"] or library["id"],
                page_number,
                report["error"],
                level=logging.ERROR,
            )

    def _page(self, page: ItemPage, report: dict) -> None:
        items = []
        for raw in page.items:
            try:
                items.append(abs_item_map(raw, page.library_id))
            except ValueError as exc:
                self._item_failed(str(raw.get("id") or "?"), str(exc), report)
        self.seen.update(item.abs_id for item in items)

        by_abs_id = {
            book.abs_id: book
            for book in books_with_relations(Book.objects.filter(abs_id__in=[i.abs_id for i in items])).values()
        }
        unmatched = [item for item in items if item.abs_id not in by_abs_id]
        matches = self.matcher.match(unmatched) if unmatched else {}
        linked = books_with_relations(Book.objects.filter(pk__in={book_id for book_id, _how in matches.values()}))

        plans = []
        for item in items:
            plan = _Plan(item=item, book=by_abs_id.get(item.abs_id))
            if plan.book is None and item.abs_id in matches:
                book_id, plan.linked_by = matches[item.abs_id]
                plan.book = linked.get(book_id)
            if plan.book is not None:
                _compare(plan.book, item, plan)
            plans.append(plan)

        writes = [plan for plan in plans if plan.book is None or plan.changes or plan.linked_by]
        self.people.preload([plan.item for plan in writes if plan.book is None or set(plan.changes) & set(RELATIONS)])
        self._create_many([plan for plan in plans if plan.book is None], report)
        for plan in plans:
            if plan.book is not None:
                self._apply(plan, report)
        self.done += len(page.items)
        self.job.progress(self.done, self.total)

    def _item_failed(self, abs_id: str, error: str, report: dict) -> None:
        self.counts["failed"] += 1
        report["failed"] += 1
        self.job.count(processed=1, failed=1)
        self._error({"abs_id": abs_id, "error": error})

    def _create_many(self, plans: list[_Plan], report: dict) -> None:
        """Create the page's new books together; if that fails, one by one so only bad items fail."""
        if not plans:
            return
        try:
            with transaction.atomic():
                rows = []
                for plan in plans:
                    authors = [self.people.author(name) for name in plan.item.authors]
                    narrators = [self.people.narrator(name) for name in plan.item.narrators]
                    series = self.people.series_refs(plan.item.series, authors[0] if authors else None)
                    rows.append((plan.item, authors, narrators, series))
                books_create_many(rows, source=SOURCE)
        except Exception:  # noqa: BLE001 - retried item by item below, where errors are recorded
            logger.warning("Creating %d books at once failed; creating them one by one.", len(plans), exc_info=True)
            self.people.forget()  # rows created in the rolled-back transaction are gone
            for plan in plans:
                self._apply(plan, report)
            return
        for plan in plans:
            self._record(plan, "created", report)

    def _apply(self, plan: _Plan, report: dict) -> None:
        item = plan.item
        if plan.book is not None and not (plan.changes or plan.linked_by):
            self._record(plan, "unchanged", report)
            return
        try:
            with transaction.atomic():
                if plan.book is None:
                    self._create(item)
                    outcome = "created"
                else:
                    self._update(plan)
                    outcome = "updated"
        except Exception as exc:  # noqa: BLE001 - one bad item is recorded; the sync goes on
            logger.exception("Audiobookshelf item %s could not be saved", item.abs_id)
            self.people.forget()
            self._item_failed(item.abs_id, f"{type(exc).__name__}: {exc}", report)
            return
        self._record(plan, outcome, report)

    def _record(self, plan: _Plan, outcome: str, report: dict) -> None:
        if plan.linked_by:
            self.linked[plan.linked_by] += 1
        self.counts[outcome] += 1
        report[outcome] += 1
        if outcome == "unchanged":
            self.job.count(processed=1, skipped=1)
        else:
            self.job.count(processed=1, succeeded=1)
        if plan.drift:
            self._drift(plan)

    def _create(self, item: AbsItem) -> Book:
        authors = [self.people.author(name) for name in item.authors]
        return book_create(
            fields={**item.fields, "abs_id": item.abs_id},
            authors=authors,
            narrators=[self.people.narrator(name) for name in item.narrators],
            series=self.people.series_refs(item.series, authors[0] if authors else None),
            source=SOURCE,
        )

    def _update(self, plan: _Plan) -> Book:
        item, changes = plan.item, plan.changes
        fields = {name: value for name, value in changes.items() if name in SCALARS}
        if plan.linked_by:
            fields["abs_id"] = item.abs_id
        authors = [self.people.author(name) for name in item.authors] if "authors" in changes else None
        if authors is not None:
            first_author = authors[0] if authors else None
        else:
            links = plan.book.book_authors.all()
            first_author = links[0].author if links else None
        narrators = [self.people.narrator(name) for name in item.narrators] if "narrators" in changes else None
        series = self.people.series_refs(item.series, first_author) if "series" in changes else None
        # A fresh instance: the prefetched relations would go stale as book_update rewrites them.
        fresh = Book.objects.get(pk=plan.book.pk)
        return book_update(
            book=fresh, fields=fields, authors=authors, narrators=narrators, series=series, source=SOURCE
        )

    def _drift(self, plan: _Plan) -> None:
        drift = plan.drift
        if self.push:
            fields = [entry["field"] for entry in drift if not is_empty(ours(plan.book, entry["field"]))]
            metadata = abs_metadata_for(plan.book, fields)
            if metadata:
                try:
                    self.client.update_media(plan.item.abs_id, metadata)
                except ExternalApiError as exc:
                    if _is_auth_error(exc):
                        raise
                    self._error({"abs_id": plan.item.abs_id, "push": sorted(metadata), "error": _message(exc)})
                else:
                    self.pushed_books += 1
                    drift = [entry for entry in drift if entry["field"] not in fields]
        for entry in drift:
            self.drift_count += 1
            self.drift_fields[entry["field"]] += 1
            if len(self.drift) < DRIFT_LIMIT:
                self.drift.append(entry)

    def _not_in_abs(self) -> int | None:
        """Linked books whose item was not seen; unknown (None) unless every library was read whole."""
        if any(report["error"] for report in self.libraries):
            return None
        linked = Book.objects.filter(abs_id__isnull=False).order_by().values_list("abs_id", flat=True)
        return sum(1 for abs_id in linked.iterator() if abs_id not in self.seen)


def abs_sync_run(*, job: JobContext, push: bool | None = None) -> dict:
    """The ``abs_sync`` job: import every Audiobookshelf book library, page by page.

    Creates, links or updates Books (source ``abs``; locked fields untouched) and returns
    the summary the JobRun keeps: counts per outcome and library, how new items were
    linked to existing books, errors, retries and the drift report (module docstring).
    ``push`` (default ``ABS_PUSH_METADATA``) sends our side of drifted fields to ABS.
    Raises ``ExternalApiError`` when ABS is not configured, unreachable or refuses the key.
    """
    if not abs_configured():
        raise ExternalApiError(
            f"{SERVICE} is not configured: set ABS_URL and ABS_API_KEY.", service=SERVICE, retryable=False
        )
    push = settings.ABS_PUSH_METADATA if push is None else bool(push)
    with AudiobookshelfClient.from_settings() as client:
        client.on_retry = lambda note: job.log(note, level=logging.WARNING)
        return _Sync(job=job, client=client, push=push).run()


# --- pushing metadata back, scanning after imports ------------------------------------------


def abs_metadata_for(book: Book, fields) -> dict:
    """Audiobookshelf ``media.metadata`` carrying our values of ``fields`` (others are ignored).

    New authors and series are sent with ``new-…`` ids, which ABS resolves by name or creates.
    """
    metadata = {}
    for name in fields:
        key = ABS_METADATA_KEYS.get(name)
        if key is None:
            continue
        if name == "authors":
            links = _related(book, "book_authors", "author")
            metadata[key] = [{"id": f"new-{index}", "name": link.author.name} for index, link in enumerate(links)]
        elif name == "narrators":
            metadata[key] = [narrator.name for narrator in book.narrators.all()]
        elif name == "series":
            entries = _related(book, "series_entries", "series")
            metadata[key] = [
                {"id": f"new-{index}", "name": entry.series.name, "sequence": entry_label(entry) or None}
                for index, entry in enumerate(entries)
            ]
        elif name == "published_year":
            metadata[key] = str(book.published_year) if book.published_year else None
        elif name == "published_date":
            metadata[key] = book.published_date.isoformat() if book.published_date else None
        else:
            metadata[key] = getattr(book, name) or ""
    return metadata


def _related(book: Book, name: str, target: str):
    """``book.<name>`` rows with ``target`` loaded: from the prefetch cache when there is one."""
    if name in getattr(book, "_prefetched_objects_cache", {}):
        return getattr(book, name).all()
    return getattr(book, name).select_related(target)


def abs_push_metadata(*, book: Book, fields) -> dict:
    """Send our values of ``fields`` to the book's Audiobookshelf item when ABS_PUSH_METADATA is on.

    Meant for accepted metadata corrections.  Returns ``{"pushed": [ABS keys], "abs_id"}``,
    or ``{"pushed": [], "skipped": reason}`` when pushing is off, ABS is not configured, the
    book is not linked or no field is one ABS keeps.  Raises ``ExternalApiError`` when the
    PATCH fails.
    """
    if not settings.ABS_PUSH_METADATA:
        return {"pushed": [], "skipped": "ABS_PUSH_METADATA is off."}
    if not abs_configured():
        return {"pushed": [], "skipped": f"{SERVICE} is not configured."}
    if not book.abs_id:
        return {"pushed": [], "skipped": f"The book is not linked to an {SERVICE} item."}
    metadata = abs_metadata_for(book, fields)
    if not metadata:
        return {"pushed": [], "skipped": f"None of these fields is kept by {SERVICE}."}
    with AudiobookshelfClient.from_settings() as client:
        client.update_media(book.abs_id, metadata)
    logger.info("Pushed %s of book %s to %s item %s.", ", ".join(sorted(metadata)), book.pk, SERVICE, book.abs_id)
    return {"pushed": sorted(metadata), "abs_id": book.abs_id}


def abs_scan_after_import(*, library_id: str | None = None) -> dict:
    """Ask Audiobookshelf to scan ``library_id`` (default: every book library) after an import.

    Never raises: an import must not fail because ABS is down.  Returns
    ``{"scanned": [ids], "errors": [{"library", "error"}]}``, or ``{"skipped": reason}``.
    """
    if not abs_configured():
        return {"scanned": [], "errors": [], "skipped": f"{SERVICE} is not configured."}
    result: dict = {"scanned": [], "errors": []}
    try:
        with AudiobookshelfClient.from_settings() as client:
            if library_id:
                library_ids = [library_id]
            else:
                library_ids = [
                    library["id"] for library in client.libraries() if (library.get("mediaType") or "book") == "book"
                ]
            for current in library_ids:
                try:
                    client.scan_library(current)
                except ExternalApiError as exc:
                    result["errors"].append({"library": current, "error": _message(exc)})
                else:
                    result["scanned"].append(current)
    except ExternalApiError as exc:
        result["errors"].append({"library": library_id, "error": _message(exc)})
    for error in result["errors"]:
        logger.warning("%s scan of library %s failed: %s", SERVICE, error["library"], error["error"])
    return result
