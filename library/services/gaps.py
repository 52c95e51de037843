"""Gap analysis (SPEC §7.3) and the changes people make to gaps.

``gap_analysis_run`` is the ``gap_analysis`` job: series gaps first (``gaps_series``), then
author gaps of monitored authors (``gaps_authors``), with the rules in ``gaps_rules``.
Provider answers come from ``library.providers.registry``, which falls back to the
ProviderCache and the next provider when one is down and says which were degraded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from library.choices import BookStatus
from library.models import Author, BookAuthor, MissingBook, Series, SeriesEntry
from library.models_gaps import GapStatus
from library.providers import registry
from library.services import gaps_authors, gaps_series
from library.services.completion import author_recalculate_many, series_recalculate_many
from library.services.gaps_rules import GapPolicy
from mamcrawler.api.exceptions import Conflict, ExternalApiError
from notifications.events import notify
from scheduler.context import JobContext
from scheduler.models import JobRun

JOB_NAME = "gap_analysis"
BATCH = 200
# What a person may set a gap's status to; the others belong to analysis and acquisition.
SETTABLE_STATUSES = (GapStatus.IGNORED, GapStatus.WANTED)


@dataclass
class RunStats:
    """The counts a run records in its JobRun summary."""

    series_checked: int = 0
    series_skipped: int = 0
    series_failed: int = 0
    series_unanswered: int = 0
    authors_checked: int = 0
    authors_skipped: int = 0
    authors_failed: int = 0
    authors_unanswered: int = 0
    series_gaps: gaps_series.WriteCounts = field(default_factory=gaps_series.WriteCounts)
    author_gaps: gaps_series.WriteCounts = field(default_factory=gaps_series.WriteCounts)
    skipped_as_series_gaps: int = 0
    degraded: set[str] = field(default_factory=set)
    from_cache: set[str] = field(default_factory=set)

    def answered(self, lookup) -> None:
        self.degraded.update(lookup.degraded)
        self.from_cache.update(lookup.from_cache)

    @staticmethod
    def add_counts(total: gaps_series.WriteCounts, counts: gaps_series.WriteCounts) -> None:
        for name in ("new", "updated", "resolved", "reopened"):
            setattr(total, name, getattr(total, name) + getattr(counts, name))

    def summary(self, *, full: bool) -> dict:
        both = {
            name: getattr(self.series_gaps, name) + getattr(self.author_gaps, name)
            for name in ("new", "updated", "resolved", "reopened")
        }
        return {
            "full": full,
            "series_checked": self.series_checked,
            "series_skipped": self.series_skipped,
            "series_failed": self.series_failed,
            "series_unanswered": self.series_unanswered,
            "authors_checked": self.authors_checked,
            "authors_skipped": self.authors_skipped,
            "authors_failed": self.authors_failed,
            "authors_unanswered": self.authors_unanswered,
            "gaps_new": both["new"],
            "gaps_updated": both["updated"],
            "gaps_resolved": both["resolved"],
            "gaps_reopened": both["reopened"],
            "series_gaps": vars(self.series_gaps),
            "author_gaps": vars(self.author_gaps),
            "skipped_as_series_gaps": self.skipped_as_series_gaps,
            "degraded_providers": sorted(self.degraded),
            "providers_from_cache": sorted(self.from_cache),
        }


# --- selection -------------------------------------------------------------------------------


def _changed_q(entries_of_owner: QuerySet, cutoff) -> Q:
    """Never checked, checked before ``cutoff``, or the row or one of its books changed since."""
    book_changed = Exists(entries_of_owner.filter(book__updated_at__gt=OuterRef("last_checked")))
    return (
        Q(last_checked__isnull=True) | Q(last_checked__lt=cutoff) | Q(updated_at__gt=F("last_checked")) | book_changed
    )


def series_to_analyse(*, series_ids: Sequence[int] | None, full: bool, policy: GapPolicy, now) -> tuple[list[int], int]:
    """(ids to analyse, how many eligible series were skipped as unchanged).

    Named series are always analysed.  Otherwise the eligible series are the monitored ones
    and those with an active book; without ``full`` only those never checked, checked more
    than ``GAPS_RECHECK_DAYS`` ago, or changed since (the series or one of its books).
    """
    if series_ids is not None:
        return sorted(set(Series.objects.filter(id__in=series_ids).values_list("id", flat=True))), 0
    owned = Exists(SeriesEntry.objects.filter(series_id=OuterRef("pk"), book__status=BookStatus.ACTIVE))
    eligible = Series.objects.filter(Q(monitored=True) | owned)
    if full:
        return list(eligible.order_by("id").values_list("id", flat=True)), 0
    cutoff = now - timedelta(days=policy.recheck_days)
    changed = _changed_q(SeriesEntry.objects.filter(series_id=OuterRef("pk")), cutoff)
    ids = list(eligible.filter(changed).order_by("id").values_list("id", flat=True))
    return ids, eligible.count() - len(ids)


def authors_to_analyse(
    *, author_ids: Sequence[int] | None, full: bool, policy: GapPolicy, now
) -> tuple[list[int], int]:
    """Like ``series_to_analyse`` for monitored authors (named authors: always)."""
    if author_ids is not None:
        return sorted(set(Author.objects.filter(id__in=author_ids).values_list("id", flat=True))), 0
    eligible = Author.objects.filter(monitored=True)
    if full:
        return list(eligible.order_by("id").values_list("id", flat=True)), 0
    cutoff = now - timedelta(days=policy.recheck_days)
    changed = _changed_q(BookAuthor.objects.filter(author_id=OuterRef("pk")), cutoff)
    ids = list(eligible.filter(changed).order_by("id").values_list("id", flat=True))
    return ids, eligible.count() - len(ids)


# --- the job ---------------------------------------------------------------------------------


def gap_analysis_run(
    *,
    job: JobContext,
    series_ids: Sequence[int] | None = None,
    author_ids: Sequence[int] | None = None,
    full: bool = False,
) -> dict:
    """The ``gap_analysis`` job: find, update and resolve series and author gaps.

    ``series_ids`` / ``author_ids``: None analyses every eligible series / monitored author,
    a list only those (``[]``: none).  Side effects: MissingBook rows created or updated in
    place (unique per series and position, or per author and title; resolved, never deleted),
    ``total_known``/``books_known`` and ``last_checked`` of what was checked, and the cached
    counts of those series and authors recomputed.  Provider calls happen outside
    transactions; each batch of 200 is written in one.

    Returns the JobRun summary: ``series_checked`` / ``authors_checked`` (looked up),
    ``*_skipped`` (unchanged, incremental runs), ``*_failed`` (the lookup raised),
    ``*_unanswered`` (every provider down and nothing cached: not stamped as checked, so the
    next run tries again), ``gaps_new`` / ``gaps_updated`` / ``gaps_resolved`` /
    ``gaps_reopened`` (also per reason in ``series_gaps`` and ``author_gaps``),
    ``skipped_as_series_gaps``, ``degraded_providers`` and ``providers_from_cache``.
    """
    policy = GapPolicy.from_settings()
    now = timezone.now()
    stats = RunStats()
    series_todo, stats.series_skipped = series_to_analyse(series_ids=series_ids, full=full, policy=policy, now=now)
    authors_todo, stats.authors_skipped = authors_to_analyse(author_ids=author_ids, full=full, policy=policy, now=now)
    total = len(series_todo) + len(authors_todo)
    job.count(skipped=stats.series_skipped + stats.authors_skipped)
    job.log(
        "Analysing %d series and %d authors (%d unchanged skipped).",
        len(series_todo),
        len(authors_todo),
        stats.series_skipped + stats.authors_skipped,
    )
    done = 0
    for start in range(0, len(series_todo), BATCH):
        done += _series_batch(series_todo[start : start + BATCH], job=job, policy=policy, stats=stats, now=now)
        job.progress(done, total)
    series_recalculate_many(series_ids=series_todo)
    if authors_todo:
        codes = gaps_authors.Codes.load()
        for start in range(0, len(authors_todo), BATCH):
            batch = authors_todo[start : start + BATCH]
            done += _author_batch(batch, job=job, policy=policy, stats=stats, codes=codes, now=now)
            job.progress(done, total)
    # Series gaps feed their authors' missing counts too.
    touched_authors = set(authors_todo) | set(
        Series.objects.filter(id__in=series_todo, primary_author__isnull=False).values_list(
            "primary_author_id", flat=True
        )
    )
    author_recalculate_many(author_ids=touched_authors)
    summary = stats.summary(full=full)
    if summary["gaps_new"]:
        notify("gaps_found", {key: summary[key] for key in ("gaps_new", "series_gaps", "author_gaps")})
    job.log(
        "Checked %d series and %d authors: %d new gaps, %d updated, %d resolved; degraded providers: %s.",
        stats.series_checked,
        stats.authors_checked,
        summary["gaps_new"],
        summary["gaps_updated"],
        summary["gaps_resolved"],
        ", ".join(summary["degraded_providers"]) or "none",
    )
    return summary


def _series_batch(ids: list[int], *, job: JobContext, policy: GapPolicy, stats: RunStats, now) -> int:
    """Analyse and write one batch of series; returns how many were processed."""
    series_list = list(
        Series.objects.filter(id__in=ids)
        .select_related("primary_author")
        .only("id", "name", "total_known", "primary_author__id", "primary_author__name")
    )
    owned = gaps_series.owned_by_series(ids)
    existing = gaps_series.existing_series_gaps(ids)
    plans: dict[int, gaps_series.SeriesPlan] = {}
    checked: list[int] = []
    for series in series_list:
        job.check_cancelled()
        author = series.primary_author.name if series.primary_author else ""
        try:
            found = registry.lookup_series(series_name=series.name, author=author)
        except ExternalApiError as exc:
            # A provider failure the registry could not absorb costs this series, not the run.
            stats.series_failed += 1
            stats.degraded.add(getattr(exc, "service", "") or "unknown")
            job.count(processed=1, failed=1)
            job.log("Series %s (%d): %s", series.name, series.id, exc.detail_text or exc.message, level=logging.WARNING)
            continue
        stats.answered(found)
        known = gaps_series.known_members(found.records)
        mine = owned.get(series.id) or gaps_series.Owned()
        gaps = gaps_series.plan_series(
            name=series.name,
            known=known,
            owned_whole=set(mine.whole),
            owned_fractional=set(mine.fractional),
            policy=policy,
        )
        unanswered = not found.records and bool(found.degraded)
        total = None if unanswered else gaps_series.provider_total(known, found.records)
        plans[series.id] = gaps_series.SeriesPlan(gaps=gaps, total_known=total)
        if unanswered:
            # Nobody answered and nothing was cached: check it again next run.
            stats.series_unanswered += 1
        else:
            checked.append(series.id)
        stats.series_checked += 1
        job.count(processed=1, succeeded=1)
    # Series whose lookup failed still get their owned gaps resolved (they have no plan).
    counts = gaps_series.write_series_gaps(
        series_list=series_list,
        plans=plans,
        owned=owned,
        existing=existing,
        checked_ids=checked,
        policy=policy,
        now=now,
    )
    stats.add_counts(stats.series_gaps, counts)
    return len(series_list)


def _author_batch(
    ids: list[int], *, job: JobContext, policy: GapPolicy, stats: RunStats, codes: gaps_authors.Codes, now
) -> int:
    """Analyse and write one batch of authors; returns how many were processed."""
    authors = list(Author.objects.filter(id__in=ids).only("id", "name", "name_key").order_by("id"))
    libraries, owned = gaps_authors.author_libraries(ids, policy.title_match)
    existing = gaps_authors.existing_author_gaps(ids, policy.title_match)
    batch = gaps_authors.AuthorBatch()
    plans: dict[int, gaps_authors.AuthorPlan] = {}
    checked: list[int] = []
    for author in authors:
        job.check_cancelled()
        planner = gaps_authors.AuthorGapPlanner(policy=policy, codes=codes, library=libraries[author.id], owned=owned)
        try:
            found = registry.lookup_author_books(author=author.name)
        except ExternalApiError as exc:
            stats.authors_failed += 1
            stats.degraded.add(getattr(exc, "service", "") or "unknown")
            job.count(processed=1, failed=1)
            job.log("Author %s (%d): %s", author.name, author.id, exc.detail_text or exc.message, level=logging.WARNING)
            found = None
        books = None
        if found is not None:
            stats.answered(found)
            unanswered = not found.records and bool(found.degraded)
            if not unanswered:
                books = gaps_authors.known_books(found.records, author=author, policy=policy)
                known = sum(1 for book in books if policy.language_ok(book.language))
                plans[author.id] = gaps_authors.AuthorPlan(books=books, known_count=known)
                checked.append(author.id)
            else:
                stats.authors_unanswered += 1
            stats.authors_checked += 1
            job.count(processed=1, succeeded=1)
        # Without an answer only the resolution of owned gaps runs (``books`` None).
        gaps_authors.plan_author(
            author=author,
            books=books,
            planner=planner,
            existing=existing.get(author.id) or gaps_authors.ExistingGaps(),
            batch=batch,
            now=now,
        )
    counts = gaps_authors.write_author_gaps(batch=batch, plans=plans, checked_ids=checked, now=now)
    stats.add_counts(stats.author_gaps, counts)
    stats.skipped_as_series_gaps += batch.skipped_as_series_gaps
    return len(authors)


# --- starting a run --------------------------------------------------------------------------


def gap_analysis_params(
    *,
    scope: str = "all",
    series_ids: Sequence[int] | None = None,
    author_ids: Sequence[int] | None = None,
    full: bool = False,
) -> dict:
    """The JobRun params for a scope: ``all``; ``series`` (the ids, or every series) without
    authors; ``authors`` (the ids, or every monitored author) without series."""
    params: dict = {}
    if scope == "series":
        params["author_ids"] = []
        if series_ids:
            params["series_ids"] = sorted(set(series_ids))
    elif scope == "authors":
        params["series_ids"] = []
        if author_ids:
            params["author_ids"] = sorted(set(author_ids))
    elif scope != "all":
        raise ValueError(f"Unknown scope {scope!r}: all, series or authors.")
    if full:
        params["full"] = True
    return params


def gap_analysis_start(*, params: dict, trigger: str, user=None, wait: bool = False) -> JobRun:
    """Queue a ``gap_analysis`` run with ``params`` (or, with ``wait``, run it here and return it
    finished).  Raises ``Conflict`` while a run is queued or running."""
    from scheduler.runner import job_start

    return job_start(name=JOB_NAME, trigger=trigger, user=user, params=params, wait=wait)


def gap_reanalysis_params(*, gaps: Sequence[MissingBook]) -> dict:
    """Params that analyse again the series and authors of ``gaps`` (the admin's "Re-analyze")."""
    series_ids = sorted({gap.series_id for gap in gaps if gap.series_id})
    author_ids = sorted({gap.primary_author_id for gap in gaps if gap.primary_author_id and not gap.series_id})
    return {"series_ids": series_ids, "author_ids": author_ids}


# --- changes by people -----------------------------------------------------------------------


@transaction.atomic
def gap_update(*, gap: MissingBook, priority: int | None = None, status: str | None = None) -> MissingBook:
    """Change a gap's priority (1–3) and/or set its status to ``ignored`` or ``wanted``.

    Raises ``Conflict`` for a status change of a completed (owned) gap, ``ValueError`` for
    another status or priority (the API validates first).
    """
    if status is not None and gap.status == GapStatus.COMPLETED and status != gap.status:
        raise Conflict(
            f"Gap {gap.pk} is completed: its book is owned.",
            message="A completed gap cannot change its status.",
            context={"gap_id": gap.pk, "resolved_book": gap.resolved_book_id},
        )
    fields = []
    if priority is not None:
        if priority not in (1, 2, 3):
            raise ValueError("Priority must be 1, 2 or 3.")
        gap.priority = priority
        fields.append("priority")
    if status is not None:
        if status not in SETTABLE_STATUSES:
            raise ValueError("A gap's status can only be set to ignored or wanted.")
        gap.status = status
        fields.append("status")
    if fields:
        gap.save(update_fields=[*fields, "updated_at"])
        gaps_recount(gaps=[gap])
    return gap


@transaction.atomic
def gaps_set_status(*, gaps: Sequence[MissingBook], status: str) -> int:
    """Set ``ignored`` or ``wanted`` on many gaps (the admin actions); completed gaps keep theirs."""
    if status not in SETTABLE_STATUSES:
        raise ValueError("A gap's status can only be set to ignored or wanted.")
    ids = [gap.pk for gap in gaps if gap.status != GapStatus.COMPLETED]
    changed = MissingBook.objects.filter(pk__in=ids).update(status=status, updated_at=timezone.now())
    gaps_recount(gaps=gaps)
    return changed


def gaps_recount(*, gaps: Sequence[MissingBook]) -> None:
    """Recount the series and authors of ``gaps``: a gap's status decides whether it is missing."""
    series_recalculate_many(series_ids={gap.series_id for gap in gaps if gap.series_id})
    author_recalculate_many(author_ids={gap.primary_author_id for gap in gaps if gap.primary_author_id})
