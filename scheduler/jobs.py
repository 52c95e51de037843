"""Job functions that belong to the scheduler itself."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from library.providers.registry import provider_cache_cleanup
from scheduler.choices import FINAL_STATUSES
from scheduler.context import JobContext
from scheduler.models import JobRun

BATCH = 1000


def cleanup_run(*, job: JobContext) -> dict:
    """Delete finished JobRuns older than ``JOB_HISTORY_DAYS`` (in batches), expired counters and
    expired provider cache rows."""
    cutoff = timezone.now() - timedelta(days=settings.JOB_HISTORY_DAYS)
    old = JobRun.objects.filter(queued_at__lt=cutoff, status__in=FINAL_STATUSES).exclude(pk=job.run.pk)
    total = old.count()
    deleted = 0
    while True:
        job.check_cancelled()
        ids = list(old.values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        deleted += JobRun.objects.filter(pk__in=ids).delete()[0]
        job.count(processed=len(ids), succeeded=len(ids))
        job.progress(deleted, total)
    job.log("Deleted %d job runs older than %d days.", deleted, settings.JOB_HISTORY_DAYS)
    counters = caches["counters"]
    purged = counters.purge_expired() if hasattr(counters, "purge_expired") else 0
    if purged:
        job.log("Deleted %d expired throttle counters.", purged)
    cache_deleted = provider_cache_cleanup()
    if cache_deleted:
        job.log("Deleted %d expired provider cache entries.", cache_deleted)
    return {
        "job_runs_deleted": deleted,
        "cutoff": cutoff.isoformat(),
        "counters_purged": purged,
        "provider_cache_deleted": cache_deleted,
    }
