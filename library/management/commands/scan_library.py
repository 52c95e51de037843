"""The library_scan job as a command: ``manage.py scan_library [PATH] [--dry-run]``."""

from __future__ import annotations

from django.core.management.base import CommandError

from library.services.scan import LibraryRootError, scan_path_resolve
from scheduler.commands import JobCommand


class Command(JobCommand):
    help = "Scan LIBRARY_ROOT (or PATH inside it) for audiobooks and update the library (the library_scan job), now."

    job_name = "library_scan"

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", default=None, help="A folder inside LIBRARY_ROOT to scan instead of all of it."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Read everything, write nothing; the summary says what would change."
        )

    def get_params(self, options) -> dict:
        # Checked here so a bad PATH is refused before a JobRun is recorded.
        try:
            start = scan_path_resolve(options["path"])
        except LibraryRootError as exc:
            raise CommandError(str(exc))
        params = {"dry_run": True} if options["dry_run"] else {}
        if options["path"]:
            params["path"] = start
        return params
