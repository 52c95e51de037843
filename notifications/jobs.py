"""The ``notifications_retry`` job (every 5 minutes)."""

from __future__ import annotations

from notifications.services import deliveries_send_due
from scheduler.context import JobContext


def notifications_retry_run(*, job: JobContext) -> dict:
    """Re-send deliveries whose retry time has passed; flush digests of runs that ended without it."""
    counts = deliveries_send_due()
    job.count(
        processed=counts["due"],
        succeeded=counts["delivered"],
        failed=counts["failed"],
        skipped=counts["pending"],
    )
    job.log(
        "%d due: %d delivered, %d failed, %d to retry; %d digest(s) flushed.",
        counts["due"],
        counts["delivered"],
        counts["failed"],
        counts["pending"],
        counts["digests_flushed"],
    )
    return counts
