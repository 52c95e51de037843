"""The download state machine (SPEC §8.5): the one place where ``Download.status`` changes.

Every change is a conditional UPDATE on the status (and the time of the last change) the
caller saw, so two processes racing on one download cannot both win: the loser gets a
``Conflict`` (409), as does a transition the allow-list does not contain.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from downloads.models import Download, DownloadStatus
from library.models import GapStatus, MissingBook
from mamcrawler.api.exceptions import Conflict
from scheduler.context import JobContext

logger = logging.getLogger("mamcrawler.downloads")

S = DownloadStatus
ALLOWED: dict[str, frozenset[str]] = {
    S.QUEUED: frozenset({S.SUBMITTING, S.HELD, S.CANCELLED}),
    S.SUBMITTING: frozenset({S.DOWNLOADING, S.FAILED, S.QUEUED}),
    S.DOWNLOADING: frozenset({S.COMPLETED, S.PAUSED, S.FAILED, S.CANCELLED}),
    S.PAUSED: frozenset({S.DOWNLOADING, S.FAILED, S.CANCELLED}),
    S.COMPLETED: frozenset({S.IMPORTING, S.FAILED}),
    S.IMPORTING: frozenset({S.IMPORTED, S.FAILED}),
    # failed → importing: a re-import of files that finished downloading (the import was what failed).
    S.FAILED: frozenset({S.QUEUED, S.IMPORTING, S.ABANDONED, S.CANCELLED}),
    S.HELD: frozenset({S.QUEUED, S.CANCELLED}),
    S.IMPORTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.ABANDONED: frozenset(),
}
# A worker's claim carries into the state its work continues in; any other change ends it.
CLAIM_KEPT_INTO = frozenset({S.SUBMITTING, S.IMPORTING})
# A claim older than this belongs to a worker presumed dead and may be taken over.
CLAIM_STALE_AFTER = timedelta(minutes=10)
JITTER = 0.1
# What a gap says while its download is in each state; a gap already completed or ignored keeps its status.
GAP_STATUS_FOR: dict[str, str] = {
    S.QUEUED: GapStatus.QUEUED,
    S.SUBMITTING: GapStatus.QUEUED,
    S.HELD: GapStatus.FOUND,
    S.DOWNLOADING: GapStatus.DOWNLOADING,
    S.PAUSED: GapStatus.DOWNLOADING,
    S.COMPLETED: GapStatus.DOWNLOADING,
    S.IMPORTING: GapStatus.DOWNLOADING,
    S.IMPORTED: GapStatus.COMPLETED,
    S.FAILED: GapStatus.FAILED,
    S.ABANDONED: GapStatus.FAILED,
    S.CANCELLED: GapStatus.WANTED,
}


def gap_follow(download: Download) -> None:
    """Make the download's gap show where the download is (one UPDATE; nothing without a gap)."""
    if not download.missing_book_id:
        return
    fields = {"status": GAP_STATUS_FOR[download.status], "updated_at": timezone.now()}
    if download.status == S.HELD:
        fields["hold_reason"] = (download.last_error or "held by the account guard")[:255]
    elif download.status in (S.QUEUED, S.DOWNLOADING):
        fields["hold_reason"] = ""
    gaps = MissingBook.objects.filter(pk=download.missing_book_id)
    if download.status != S.IMPORTED:
        gaps = gaps.exclude(status__in=(GapStatus.COMPLETED, GapStatus.IGNORED))
    gaps.update(**fields)


def _transition(download: Download, to: str, reason: str, **fields) -> Download:
    """Move ``download`` to ``to`` if it is still where the caller saw it; also write ``fields``."""
    current = download.status
    if to not in ALLOWED.get(current, ()):
        raise Conflict(
            f"A download cannot go from {current} to {to}.",
            context={"id": download.pk, "status": current, "to": to},
        )
    now = timezone.now()
    entry = {"from": current, "to": str(to), "at": now.isoformat(), "reason": reason}
    fields.update(status=to, transitions=[*download.transitions, entry], status_changed_at=now, updated_at=now)
    if to not in CLAIM_KEPT_INTO:
        fields.update(claimed_by=None, claimed_at=None)
    if current == S.FAILED:
        fields.setdefault("next_retry_at", None)
    # The time of the last change as well as the status: failed → queued → … → failed again
    # must not let a caller holding the first "failed" overwrite the log written since.
    updated = Download.objects.filter(
        pk=download.pk, status=current, status_changed_at=download.status_changed_at
    ).update(**fields)
    if updated != 1:
        actual = Download.objects.filter(pk=download.pk).values_list("status", flat=True).first()
        raise Conflict(
            f"Download {download.pk} changed concurrently (now {actual or 'deleted'}).",
            context={"id": download.pk, "status": actual, "expected": current, "to": to},
        )
    for name, value in fields.items():
        setattr(download, name, value)
    gap_follow(download)
    logger.info("Download %s: %s → %s%s", download.pk, current, to, f" ({reason})" if reason else "")
    return download


def download_transition(*, download: Download, to: str, reason: str = "") -> Download:
    """Change the status of ``download`` along the allow-list and log the change in ``transitions``.

    Raises ``Conflict`` for a transition not allowed or when the row changed since it was loaded.
    Leaving ``failed`` clears ``next_retry_at``; a claim is released unless the work goes on.
    """
    return _transition(download, to, reason)


def download_hold(*, download: Download, reason: str) -> Download:
    """Hold ``download`` (queued → held) because the account guard refuses it now; ``reason`` says why."""
    return _transition(download, S.HELD, reason[:200], last_error=reason)


def download_release(*, download: Download, reason: str = "the account guard allows it now") -> Download:
    """Put a held download back in the queue (held → queued) and clear the hold reason."""
    return _transition(download, S.QUEUED, reason, last_error="")


def retry_delay_seconds(*, retry_count: int) -> float:
    """``RETRY_BASE_SECONDS`` × 2^retry_count, give or take 10 % so retries do not bunch up."""
    return settings.RETRY_BASE_SECONDS * 2**retry_count * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - jitter, not secrecy


@transaction.atomic
def download_fail(*, download: Download, error: str) -> Download:
    """Mark ``download`` failed with ``error`` and schedule its retry, or abandon it when out of retries.

    The n-th failure (n ≤ ``max_retries``) waits base × 2^(n-1); the one after that goes on
    to ``abandoned`` (both transitions are logged).
    """
    retries = download.retry_count
    if retries >= download.max_retries:
        download = _transition(download, S.FAILED, error[:200], last_error=error, retry_count=retries + 1)
        return _transition(download, S.ABANDONED, f"gave up after {download.max_retries} retries")
    next_retry_at = timezone.now() + timedelta(seconds=retry_delay_seconds(retry_count=retries))
    return _transition(
        download, S.FAILED, error[:200], last_error=error, retry_count=retries + 1, next_retry_at=next_retry_at
    )


def downloads_claim(*, status: str, limit: int, worker: str) -> list[Download]:
    """Take up to ``limit`` downloads in ``status`` for ``worker``, oldest first, so no other worker gets them.

    A row is free when unclaimed or its claim is older than ``CLAIM_STALE_AFTER``.  PostgreSQL
    locks the rows with ``SKIP LOCKED``; SQLite (one writer at a time) claims each candidate
    with a conditional UPDATE and keeps those whose UPDATE hit a row.
    """
    now = timezone.now()
    free = Q(claimed_by__isnull=True) | Q(claimed_at__lt=now - CLAIM_STALE_AFTER)
    candidates = Download.objects.filter(free, status=status).order_by("priority", "created_at", "pk")
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = list(candidates.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
            Download.objects.filter(pk__in=ids).update(claimed_by=worker, claimed_at=now)
    else:
        ids = [
            pk
            for pk in candidates.values_list("pk", flat=True)[:limit]
            if Download.objects.filter(free, pk=pk, status=status).update(claimed_by=worker, claimed_at=now) == 1
        ]
    return list(Download.objects.filter(pk__in=ids, claimed_by=worker).order_by("priority", "created_at", "pk"))


def downloads_retry_due(*, job: JobContext) -> dict:
    """The ``download_retry`` job: put failed downloads whose ``next_retry_at`` has passed back in the queue."""
    due = Download.objects.filter(status=S.FAILED, next_retry_at__lte=timezone.now()).order_by("next_retry_at")
    requeued = []
    for download in due:
        job.check_cancelled()
        job.count(processed=1)
        try:
            download_transition(download=download, to=S.QUEUED, reason=f"retry {download.retry_count}")
        except Conflict:
            job.count(skipped=1)  # someone else moved it meanwhile
            continue
        job.count(succeeded=1)
        requeued.append(download.pk)
    job.log("Requeued %d failed download(s).", len(requeued))
    return {"requeued": requeued}
