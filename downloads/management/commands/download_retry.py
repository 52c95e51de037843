"""The download_retry job as a command: ``manage.py download_retry``."""

from __future__ import annotations

from scheduler.commands import JobCommand


class Command(JobCommand):
    help = "Requeue failed downloads whose retry time has come, now (the download_retry job)."

    job_name = "download_retry"
