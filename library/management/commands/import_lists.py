"""The import_lists job as a command: ``manage.py import_lists``."""

from __future__ import annotations

from scheduler.commands import JobCommand


class Command(JobCommand):
    help = "Turn Goodreads shelf and Hardcover want-to-read books not owned into wishlist gaps now (import_lists job)."

    job_name = "import_lists"
