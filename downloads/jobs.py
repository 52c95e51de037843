"""The ``acquire_wanted`` job (SPEC §10): search MAM for wanted gaps and queue what the guard allows.

Gaps are taken by priority, then the longest unsearched first, at most ``ACQUIRE_MAX_SEARCHES``
per run (MAM is paced at one request per ``MAM_MIN_INTERVAL``), and at most ``max_downloads``
are queued.  An expired MAM session stops the run with one error; a failed search of one gap
is counted and the run goes on.  Held candidates stay on their gap with the guard's reason.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from downloads.account import account_state, snapshot_fresh
from downloads.acquisition import (
    active_downloads,
    best_candidate,
    download_queue_candidate,
    downloads_release_held,
    gap_search,
)
from downloads.integrations.mam import MamClient
from downloads.models import DownloadStatus, MamSession
from library.models import GapReason, GapStatus, MissingBook
from mamcrawler.api.exceptions import ExternalApiError
from notifications.events import notify
from scheduler.context import JobContext

logger = logging.getLogger("mamcrawler.downloads")

SEEDBOX_EVERY = timedelta(hours=1)
WANTED_STATUSES = (GapStatus.WANTED, GapStatus.FOUND, GapStatus.NOT_FOUND, GapStatus.FAILED)


def wanted_gaps(*, gap_ids: Sequence[int] | None = None):
    """Gaps to look for, in the order they are searched.

    Wanted (also found / not found / failed again) gaps without an active download; with
    ``ACQUIRE_MONITORED`` also identified gaps of monitored series, monitored authors'
    books and wishlist items.  Explicit ``gap_ids`` are taken whatever their status, except
    completed, ignored or already downloading ones.
    """
    busy = active_downloads().filter(missing_book=OuterRef("pk"))
    gaps = MissingBook.objects.exclude(Exists(busy)).select_related("series", "primary_author")
    if gap_ids is not None:
        gaps = gaps.filter(pk__in=gap_ids).exclude(status__in=(GapStatus.COMPLETED, GapStatus.IGNORED))
    else:
        wanted = Q(status__in=WANTED_STATUSES)
        if settings.ACQUIRE_MONITORED:
            monitored = Q(series__monitored=True) | Q(reason__in=(GapReason.AUTHOR_GAP, GapReason.WISHLIST))
            wanted |= Q(status=GapStatus.IDENTIFIED) & monitored
        gaps = gaps.filter(wanted)
    return gaps.order_by("priority", F("searched_at").asc(nulls_first=True), "pk")


def seedbox_refresh(client: MamClient) -> str | None:
    """Call MAM's dynamic seedbox endpoint when ``MAM_DYNAMIC_SEEDBOX`` is on and the last call is an hour old."""
    if not settings.MAM_DYNAMIC_SEEDBOX:
        return None
    session = MamSession.load()
    now = timezone.now()
    if session.seedbox_updated_at and now - session.seedbox_updated_at < SEEDBOX_EVERY:
        return None
    message = client.dynamic_seedbox()
    MamSession.objects.filter(pk=session.pk).update(seedbox_updated_at=now, seedbox_message=message[:200])
    return message


def _session_expired() -> bool:
    return MamSession.objects.filter(pk=MamSession.SINGLETON_ID, expired=True).exists()


def acquire_wanted_run(
    *,
    job: JobContext,
    max_downloads: int | None = None,
    dry_run: bool = False,
    analyze: bool = False,
    gap_ids: Sequence[int] | None = None,
) -> dict:
    """Search wanted gaps on MAM and queue the best allowed candidates (``dry_run``: queue nothing).

    ``analyze`` runs gap analysis first (``gaps/acquire/``).  Side effects: MAM searches and
    torrent downloads, Downloads created, gaps updated (best candidate, hold reason, status).
    """
    limit = settings.ACQUIRE_MAX_DOWNLOADS if max_downloads is None else max_downloads
    summary: dict = {"searched": 0, "queued": [], "held": {}, "not_found": [], "errors": {}, "dry_run": dry_run}
    if analyze:
        from library.services.gaps import gap_analysis_run

        summary["analysis"] = gap_analysis_run(job=job)
    with MamClient() as client:
        summary["seedbox"] = seedbox_refresh(client)
        snapshot = snapshot_fresh()
        summary["released"] = [] if dry_run else downloads_release_held(client=client)
        gaps = list(wanted_gaps(gap_ids=gap_ids)[: settings.ACQUIRE_MAX_SEARCHES])
        for index, gap in enumerate(gaps):
            job.check_cancelled()
            job.progress(index, len(gaps))
            if len(summary["queued"]) >= limit:
                job.log("Queued %d download(s), the most this run may queue.", limit)
                break
            job.count(processed=1)
            try:
                candidates = gap_search(gap=gap, client=client, account=account_state(snapshot=snapshot))
                summary["searched"] += 1
                best = best_candidate(candidates)
                if best is None:
                    summary["not_found"].append(gap.pk)
                    job.count(skipped=1)
                elif not best.allowed:
                    summary["held"][gap.pk] = best.hold_reason
                    job.log("Held %s: %s", gap.title, best.hold_reason)
                    if not dry_run:
                        notify("download_held", {"gap_id": gap.pk, "title": gap.title, "reason": best.hold_reason})
                    job.count(skipped=1)
                elif dry_run:
                    summary["queued"].append({"gap": gap.pk, "mam_torrent_id": best.mam_torrent_id})
                    job.count(succeeded=1)
                else:
                    download = download_queue_candidate(candidate=best, client=client, gap=gap)
                    if download.status == DownloadStatus.HELD:
                        summary["held"][gap.pk] = download.last_error
                        job.count(skipped=1)
                    else:
                        summary["queued"].append({"gap": gap.pk, "download": download.pk})
                        job.log("Queued %s (MAM %s, %s).", gap.title, best.mam_torrent_id, best.cost)
                        job.count(succeeded=1)
            except ExternalApiError as exc:
                if not exc.retryable and _session_expired():
                    raise
                summary["errors"][gap.pk] = str(exc.detail)
                job.log("Searching %s failed: %s", gap.title, exc.detail, level=logging.WARNING)
                job.count(failed=1)
        job.progress(len(gaps), len(gaps))
    job.log(
        "Searched %d gap(s): %d queued, %d held, %d not found, %d failed.",
        summary["searched"],
        len(summary["queued"]),
        len(summary["held"]),
        len(summary["not_found"]),
        len(summary["errors"]),
    )
    return summary
