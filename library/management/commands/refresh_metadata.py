"""The metadata_refresh job as a command: ``manage.py refresh_metadata [--limit N] [--threshold T] [--overwrite]``."""

from __future__ import annotations

from django.core.management.base import CommandError

from library.api.serializers.metadata import MAX_DAYS, MAX_LIMIT
from scheduler.commands import JobCommand


def _bounded(name: str, low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise CommandError(f"--{name} must be a whole number, not {text!r}.") from None
        if not low <= value <= high:
            raise CommandError(f"--{name} must be between {low} and {high}.")
        return value

    return parse


class Command(JobCommand):
    help = "Correct book metadata from the providers (the metadata_refresh job), now."

    job_name = "metadata_refresh"

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=_bounded("limit", 1, MAX_LIMIT), help="At most N books (default METADATA_REFRESH_LIMIT)."
        )
        parser.add_argument(
            "--threshold", type=_bounded("threshold", 0, 100), help="Only books whose completeness is below T."
        )
        parser.add_argument(
            "--days", type=_bounded("days", 1, MAX_DAYS), help="Only books added or changed in the last N days."
        )
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="Also replace filled fields when a provider is more confident than their current source.",
        )

    def get_params(self, options) -> dict:
        params = {name: options[name] for name in ("limit", "threshold", "days") if options[name] is not None}
        if options["overwrite"]:
            params["overwrite"] = True
        return params
