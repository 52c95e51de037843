"""The single registry of scheduled jobs (SPEC §10).

Each job names the plain function that does its work; ``scheduler.runner`` wraps every
run in a JobRun.  A job whose function does not exist yet is simply not declared here.
``SCHEDULE_<NAME>`` in the environment overrides a default schedule ("0 3 * * *", "6h",
or "off"); a change made through the API or admin (``JobSetting``) wins over both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

HEARTBEAT_MINUTES = 1


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    function: str
    default_schedule: str
    timeout_seconds: int = 3600
    # Whether the job can do anything with this configuration (e.g. LIBRARY_ROOT set).
    condition: Callable[[], bool] = field(default=lambda: True)
    condition_text: str = ""

    def load(self) -> Callable:
        return import_string(self.function)

    def env_schedule(self) -> str | None:
        return settings.JOB_SCHEDULE_OVERRIDES.get(self.name)


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            name="cleanup",
            description="Delete JobRuns older than JOB_HISTORY_DAYS and expired throttle counters.",
            function="scheduler.jobs.cleanup_run",
            default_schedule="0 1 * * *",
            timeout_seconds=1800,
        ),
        Job(
            name="backup",
            description="Write a backup archive of the whole instance to BACKUP_DIR; keep the newest BACKUP_KEEP.",
            function="mamcrawler.backup.services.backup_run",
            default_schedule="30 0 * * *",
            timeout_seconds=3600,
        ),
        Job(
            name="abs_sync",
            description="Import Audiobookshelf library items as books and report drift (SPEC §9).",
            function="library.services.abs_sync.abs_sync_run",
            default_schedule="1h",
            timeout_seconds=1800,
            condition=lambda: bool(settings.ABS_URL and settings.ABS_API_KEY),
            condition_text="ABS_URL and ABS_API_KEY set",
        ),
        Job(
            name="library_scan",
            description="Scan LIBRARY_ROOT for audiobooks: create and update books, archive vanished ones (SPEC §9).",
            function="library.services.scan.library_scan_run",
            default_schedule="0 2 * * *",
            condition=lambda: bool(settings.LIBRARY_ROOT) and os.path.isdir(settings.LIBRARY_ROOT),
            condition_text="LIBRARY_ROOT set and an existing directory",
        ),
        Job(
            name="gap_analysis",
            description="Find gaps in series and unowned books of monitored authors; resolve owned ones (SPEC §7.3).",
            function="library.services.gaps.gap_analysis_run",
            default_schedule="0 3 * * *",
        ),
        Job(
            name="metadata_refresh",
            description="Correct the metadata of the least recently checked books from the providers (SPEC §7.2).",
            function="library.services.metadata.metadata_refresh_run",
            default_schedule="0 4 * * *",
        ),
        Job(
            name="import_lists",
            description="Goodreads shelf and Hardcover want-to-read books not owned become wishlist gaps (SPEC §9).",
            function="library.services.import_lists.import_lists_run",
            default_schedule="0 5 * * *",
            timeout_seconds=1800,
            condition=lambda: bool(settings.GOODREADS_RSS_URL or settings.HARDCOVER_TOKEN),
            condition_text="GOODREADS_RSS_URL or HARDCOVER_TOKEN set",
        ),
        Job(
            name="mam_account",
            description="Snapshot the MAM account: ratio, unsatisfied torrents, wedges (SPEC §8.4).",
            function="downloads.services.mam_account_run",
            default_schedule="1h",
            timeout_seconds=600,
            condition=lambda: bool(settings.MAM_SESSION_ID),
            condition_text="MAM_SESSION_ID set",
        ),
        Job(
            name="acquire_wanted",
            description="Search MAM for wanted gaps by priority and queue what the account guard allows (SPEC §8).",
            function="downloads.jobs.acquire_wanted_run",
            default_schedule="6h",
            timeout_seconds=3600,
            condition=lambda: bool(settings.MAM_SESSION_ID),
            condition_text="MAM_SESSION_ID set",
        ),
        Job(
            name="download_monitor",
            description="Submit queued torrents to qBittorrent, follow their progress and import finished books.",
            function="downloads.monitor.download_monitor_run",
            default_schedule="2m",
            timeout_seconds=900,
            condition=lambda: bool(settings.QBITTORRENT_URL),
            condition_text="QBITTORRENT_URL set",
        ),
        Job(
            name="notifications_retry",
            description="Re-send notification deliveries whose retry time has passed (SPEC §10.1).",
            function="notifications.jobs.notifications_retry_run",
            default_schedule="5m",
            timeout_seconds=600,
        ),
        Job(
            name="download_retry",
            description="Requeue failed downloads whose retry time has come (SPEC §8.5).",
            function="downloads.state.downloads_retry_due",
            default_schedule="15m",
            timeout_seconds=600,
        ),
    )
}


def get_job(name: str) -> Job | None:
    return JOBS.get(name)
