"""Reads about downloads: the list and detail querysets, the pending/failed/retry-due views, stats."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from downloads.models import FINAL_STATUSES, Download, DownloadSource, DownloadStatus

S = DownloadStatus
SEARCH_FIELDS = ["title", "author", "info_hash"]
# Still on their way into the library (a person may want to watch or act on them).
PENDING_STATUSES = (S.QUEUED, S.SUBMITTING, S.HELD, S.DOWNLOADING, S.PAUSED, S.COMPLETED, S.IMPORTING)
FAILED_STATUSES = (S.FAILED, S.ABANDONED)
# Never in a list: the torrent's bytes and the magnet (its trackers may carry a passkey).
HEAVY_OR_SECRET = ("torrent_file", "magnet")
LIST_DEFERRED = (*HEAVY_OR_SECRET, "transitions", "save_path", "content_path", "claimed_by", "claimed_at")


def download_list_queryset() -> QuerySet[Download]:
    """Downloads newest first, without the columns lists never show (one query a page)."""
    return Download.objects.defer(*LIST_DEFERRED).order_by("-created_at", "-id")


def download_detail_queryset() -> QuerySet[Download]:
    """Downloads with their transition log, without the torrent bytes."""
    return Download.objects.defer(*HEAVY_OR_SECRET)


def download_get(*, download_id: int) -> Download:
    return download_detail_queryset().get(pk=download_id)


def downloads_pending() -> QuerySet[Download]:
    """Downloads not yet imported nor given up: queued … importing, held and paused included."""
    return download_list_queryset().filter(status__in=PENDING_STATUSES)


def downloads_failed() -> QuerySet[Download]:
    """Failed downloads (waiting for a retry) and abandoned ones."""
    return download_list_queryset().filter(status__in=FAILED_STATUSES)


def downloads_retry_due() -> QuerySet[Download]:
    """Failed downloads whose retry time has come, the longest overdue first."""
    return (
        download_list_queryset()
        .filter(status=S.FAILED, next_retry_at__lte=timezone.now())
        .order_by("next_retry_at", "id")
    )


def download_stats() -> dict:
    """Downloads counted by status, source and cost; sizes; imports of the last day and week. One query."""
    now = timezone.now()
    imported = Q(status=S.IMPORTED)
    # Magnets added by hand never touch the MAM account, so they are neither free nor paid.
    tracker = ~Q(source=DownloadSource.MANUAL)
    counts = {f"status_{value}": Count("id", filter=Q(status=value)) for value in S.values}
    counts |= {f"source_{value}": Count("id", filter=Q(source=value)) for value in DownloadSource.values}
    row = Download.objects.aggregate(
        total=Count("id"),
        active=Count("id", filter=~Q(status__in=FINAL_STATUSES)),
        total_size=Sum("size_bytes"),
        active_size=Sum("size_bytes", filter=~Q(status__in=FINAL_STATUSES)),
        imported_24h=Count("id", filter=imported & Q(status_changed_at__gte=now - timedelta(days=1))),
        imported_7d=Count("id", filter=imported & Q(status_changed_at__gte=now - timedelta(days=7))),
        free=Count("id", filter=tracker & Q(is_free=True, used_wedge=False)),
        wedge=Count("id", filter=tracker & Q(used_wedge=True)),
        paid=Count("id", filter=tracker & Q(is_free=False, used_wedge=False)),
        **counts,
    )
    return {
        "total": row["total"],
        "active": row["active"],
        "total_size_bytes": row["total_size"] or 0,
        "active_size_bytes": row["active_size"] or 0,
        "imported_last_24h": row["imported_24h"],
        "imported_last_7d": row["imported_7d"],
        "by_status": {value: row[f"status_{value}"] for value in S.values},
        "by_source": {value: row[f"source_{value}"] for value in DownloadSource.values},
        "by_cost": {"free": row["free"], "wedge": row["wedge"], "paid": row["paid"]},
    }
