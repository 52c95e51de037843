"""The download_monitor job as a command: ``manage.py monitor_downloads``."""

from __future__ import annotations

from scheduler.commands import JobCommand


class Command(JobCommand):
    help = "Submit queued torrents, follow qBittorrent and import finished books now (the download_monitor job)."

    job_name = "download_monitor"
