"""The admin index as the household's console: what the library, acquisition and jobs look like now.

Everything is read from the database in a fixed handful of queries; integrations are shown
as the last ``/api/v1/system/integrations/`` check left them in the cache (the admin index
never waits on the network), or as configured / not configured.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from downloads.account import guard_verdict
from downloads.models import Download, DownloadStatus
from library.choices import BookStatus, CompletionStatus
from library.models import Book, GapStatus, MissingBook, Series
from mamcrawler.system import integrations
from scheduler.models import JobRun

MONTHS = 12
LATEST_RUNS = 8
BAR_WIDTH = 240  # pixels of the longest bar in the charts
ROW_HEIGHT = 16


def _bars(rows: list[tuple[str, int]]) -> dict:
    """A horizontal bar chart: each row's bar width proportional to the largest value, its y position."""
    top = max((value for _label, value in rows), default=0) or 1
    bars = [
        {"label": label, "value": value, "width": round(BAR_WIDTH * value / top), "y": index * ROW_HEIGHT}
        for index, (label, value) in enumerate(rows)
    ]
    return {"bars": bars, "height": len(bars) * ROW_HEIGHT, "width": BAR_WIDTH + 130}


def books_added_per_month(*, now=None) -> dict:
    """Books added in each of the last ``MONTHS`` months, oldest first (months without books included)."""
    now = timezone.localtime(now or timezone.now())
    first = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(days=31 * (MONTHS - 1))).replace(
        day=1
    )
    counted = {
        row["month"].strftime("%Y-%m"): row["books"]
        for row in Book.objects.filter(date_added__gte=first)
        .annotate(month=TruncMonth("date_added"))
        .values("month")
        .annotate(books=Count("id"))
    }
    months, month = [], first
    while month <= now:
        months.append(month.strftime("%Y-%m"))
        month = (month + timedelta(days=32)).replace(day=1)
    return _bars([(label, counted.get(label, 0)) for label in months[-MONTHS:]])


def series_completion() -> dict:
    """How many series are complete, partial, incomplete or of unknown size."""
    counted = dict(Series.objects.values_list("completion_status").annotate(n=Count("id")).order_by())
    return _bars([(label, counted.get(value, 0)) for value, label in CompletionStatus.choices])


def acquisition_counts() -> dict:
    """Gaps wanted and held, downloads queued, downloading and failed (two queries)."""
    gaps = MissingBook.objects.aggregate(
        wanted=Count("id", filter=Q(status__in=(GapStatus.WANTED, GapStatus.FOUND, GapStatus.NOT_FOUND))),
        held=Count("id", filter=Q(status=GapStatus.FOUND) & ~Q(hold_reason="")),
        completed=Count("id", filter=Q(status=GapStatus.COMPLETED)),
    )
    downloads = Download.objects.aggregate(
        queued=Count("id", filter=Q(status__in=(DownloadStatus.QUEUED, DownloadStatus.SUBMITTING))),
        held=Count("id", filter=Q(status=DownloadStatus.HELD)),
        downloading=Count("id", filter=Q(status__in=(DownloadStatus.DOWNLOADING, DownloadStatus.PAUSED))),
        importing=Count("id", filter=Q(status__in=(DownloadStatus.COMPLETED, DownloadStatus.IMPORTING))),
        failed=Count("id", filter=Q(status=DownloadStatus.FAILED)),
    )
    return {
        "wanted": gaps["wanted"],
        "held": gaps["held"] + downloads["held"],
        "completed_gaps": gaps["completed"],
        **{key: downloads[key] for key in ("queued", "downloading", "importing", "failed")},
    }


def integration_rows() -> list[dict]:
    """Each integration as last checked (from the cache), else whether it is configured."""
    report = cache.get(integrations.CACHE_KEY)
    if report:
        return [
            {
                "name": item["name"],
                "state": "ok" if item["reachable"] else "not configured" if not item["configured"] else "down",
                "detail": item.get("last_error") or item.get("version") or "",
            }
            for item in report["integrations"]
        ]
    return [
        {"name": name, "state": "configured" if integrations.is_configured(name) else "not configured", "detail": ""}
        for name in integrations.REQUIRED_SETTINGS
    ]


def dashboard_context() -> dict:
    """Everything the admin index shows above the list of models."""
    library = Book.objects.aggregate(
        active=Count("id", filter=Q(status=BookStatus.ACTIVE)),
        archived=Count("id", filter=Q(status=BookStatus.ARCHIVED)),
    )
    return {
        "library": {
            "books": library["active"],
            "archived": library["archived"],
            "series": Series.objects.count(),
            "gaps_open": MissingBook.objects.exclude(status__in=(GapStatus.COMPLETED, GapStatus.IGNORED)).count(),
        },
        "acquisition": acquisition_counts(),
        "guard_verdict": guard_verdict(),
        "books_per_month": books_added_per_month(),
        "series_completion": series_completion(),
        "latest_runs": list(JobRun.objects.order_by("-queued_at", "-id")[:LATEST_RUNS]),
        "integrations": integration_rows(),
    }


def dashboard_index(view):
    """Wrap the admin site's index view so its template gets ``dashboard`` (SPEC §3: the admin as a console)."""

    def index(request, extra_context=None):
        return view(request, extra_context={**(extra_context or {}), "dashboard": dashboard_context()})

    return index
