"""Reads about gaps: the list queryset, a series' or author's gaps, stats, the analysis report."""

from __future__ import annotations

from django.db.models import Case, Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When

from downloads.models import FINAL_STATUSES as DOWNLOAD_FINAL_STATUSES
from downloads.models import Download
from library.models import Author, MissingBook, Series
from library.models_gaps import GapReason, GapStatus
from library.services.completion import CLOSED_GAP_STATUSES
from scheduler.choices import FINAL_STATUSES
from scheduler.models import JobRun

JOB_NAME = "gap_analysis"
TOP_SERIES = 10
# Most wanted first: priority, then series and position (gaps without either last, on every database).
DEFAULT_ORDER = ("priority", F("series_id").asc(nulls_last=True), F("position").asc(nulls_last=True), "id")


def gap_download_id() -> Subquery:
    """The id of the gap's active Download, else of its newest one (a subquery: no query per row)."""
    downloads = (
        Download.objects.filter(missing_book=OuterRef("pk"))
        .annotate(over=Case(When(status__in=DOWNLOAD_FINAL_STATUSES, then=Value(1)), default=Value(0)))
        .order_by("over", "-created_at", "-pk")
        .values("pk")[:1]
    )
    return Subquery(downloads)


def gap_queryset() -> QuerySet[MissingBook]:
    """Gaps with their series joined, their download's id annotated and their linked authors
    prefetched (two queries a page)."""
    return (
        MissingBook.objects.select_related("series")
        .annotate(download_id=gap_download_id())
        .prefetch_related(
            Prefetch("authors", queryset=Author.objects.only("id", "name", "sort_name").order_by("sort_name", "id"))
        )
        .order_by(*DEFAULT_ORDER)
    )


def author_gaps_q(author_id: int) -> Q:
    """Gaps naming the author as primary author or among their authors (no duplicate rows)."""
    linked = MissingBook.authors.through.objects.filter(author_id=author_id).values("missingbook_id")
    return Q(primary_author_id=author_id) | Q(id__in=linked)


def gaps_of_series(*, series: Series) -> QuerySet[MissingBook]:
    """A series' gaps in reading order."""
    return gap_queryset().filter(series=series).order_by("position", "id")


def gaps_of_author(*, author: Author) -> QuerySet[MissingBook]:
    """An author's gaps, most wanted first (priority, then series and position)."""
    return gap_queryset().filter(author_gaps_q(author.id))


def _missing() -> Q:
    return ~Q(status__in=CLOSED_GAP_STATUSES)


def gap_stats() -> dict:
    """Every gap counted by reason and status; missing ones by priority; with candidates. One query."""
    counts = {f"reason_{value}": Count("id", filter=Q(reason=value)) for value in GapReason.values}
    counts |= {f"status_{value}": Count("id", filter=Q(status=value)) for value in GapStatus.values}
    counts |= {f"priority_{value}": Count("id", filter=Q(priority=value) & _missing()) for value in (1, 2, 3)}
    row = MissingBook.objects.aggregate(
        total=Count("id"),
        missing=Count("id", filter=_missing()),
        available=Count("id", filter=Q(best_candidate__isnull=False)),
        free=Count("id", filter=Q(best_candidate__cost="free")),
        **counts,
    )
    return {
        "total": row["total"],
        "missing": row["missing"],
        "available": row["available"],
        "free": row["free"],
        "by_reason": {value: row[f"reason_{value}"] for value in GapReason.values},
        "by_status": {value: row[f"status_{value}"] for value in GapStatus.values},
        "by_priority": {name: row[f"priority_{value}"] for value, name in ((1, "high"), (2, "normal"), (3, "low"))},
    }


def gap_history() -> QuerySet[JobRun]:
    """Past gap analysis runs, newest first."""
    return JobRun.objects.filter(job=JOB_NAME).select_related("requested_by").order_by("-queued_at", "-id")


def gap_report() -> dict:
    """The latest finished analysis run, missing gaps per reason, every gap per status, top series."""
    run = gap_history().filter(status__in=FINAL_STATUSES).first()
    missing = MissingBook.objects.filter(_missing())
    by_reason = dict(missing.order_by().values_list("reason").annotate(n=Count("id")).values_list("reason", "n"))
    by_status = dict(
        MissingBook.objects.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    top = (
        missing.filter(series__isnull=False)
        .order_by()
        .values("series_id", "series__name")
        .annotate(missing=Count("id"))
        .order_by("-missing", "series__name", "series_id")[:TOP_SERIES]
    )
    return {
        "run": run,
        "duration_seconds": run.duration_seconds if run else None,
        "summary": run.summary if run else {},
        "by_reason": {value: by_reason.get(value, 0) for value in GapReason.values},
        "by_status": {value: by_status.get(value, 0) for value in GapStatus.values},
        "top_series": [{"id": row["series_id"], "name": row["series__name"], "missing": row["missing"]} for row in top],
    }
