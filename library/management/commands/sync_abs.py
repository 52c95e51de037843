"""The Audiobookshelf sync job as a command."""

from __future__ import annotations

import argparse

from django.core.management.base import CommandError

from library.integrations.audiobookshelf import abs_configured
from scheduler.commands import JobCommand


class Command(JobCommand):
    help = "Import the Audiobookshelf libraries into the library now (the abs_sync job) and print its summary."

    job_name = "abs_sync"

    def add_arguments(self, parser):
        parser.add_argument(
            "--push",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Send our side of drifted fields to Audiobookshelf (default: ABS_PUSH_METADATA).",
        )

    def get_params(self, options) -> dict:
        return {} if options["push"] is None else {"push": options["push"]}

    def handle(self, *args, **options):
        if not abs_configured():
            raise CommandError("Audiobookshelf is not configured: set ABS_URL and ABS_API_KEY.")
        return super().handle(*args, **options)
