"""The acquire_wanted job as a command: ``manage.py acquire_wanted [--max N] [--dry-run] [--analyze] [--gap ID …]``."""

from __future__ import annotations

from django.core.management.base import CommandError

from library.models import MissingBook
from scheduler.commands import JobCommand


class Command(JobCommand):
    help = "Search MAM for wanted gaps and queue what the account guard allows now (the acquire_wanted job)."

    job_name = "acquire_wanted"

    def add_arguments(self, parser):
        parser.add_argument(
            "--max", type=int, metavar="N", help="Queue at most N downloads (default ACQUIRE_MAX_DOWNLOADS)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Search and report, but queue nothing.")
        parser.add_argument("--analyze", action="store_true", help="Run gap analysis first.")
        parser.add_argument(
            "--gap",
            type=int,
            action="append",
            metavar="ID",
            help="Look for this gap only (repeatable), whatever its status unless completed or ignored.",
        )

    def get_params(self, options) -> dict:
        if options["max"] is not None and options["max"] < 0:
            raise CommandError("--max must be 0 or more.")
        gap_ids = sorted(set(options["gap"])) if options["gap"] else None
        if gap_ids:
            # Checked here so unknown ids are refused before a JobRun is recorded.
            known = set(MissingBook.objects.filter(pk__in=gap_ids).values_list("pk", flat=True))
            unknown = [str(pk) for pk in gap_ids if pk not in known]
            if unknown:
                raise CommandError(f"--gap: no gap with id {', '.join(unknown)}.")
        return {
            "max_downloads": options["max"],
            "dry_run": options["dry_run"],
            "analyze": options["analyze"],
            "gap_ids": gap_ids,
        }
