"""The gap_analysis job as a command: ``manage.py analyze_gaps [--series ID …] [--author ID …] [--full]``."""

from __future__ import annotations

from django.core.management.base import CommandError

from library.models import Author, Series
from library.services.gaps import gap_analysis_params
from scheduler.commands import JobCommand


class Command(JobCommand):
    help = "Find gaps in series and unowned books of monitored authors now (the gap_analysis job)."

    job_name = "gap_analysis"

    def add_arguments(self, parser):
        parser.add_argument(
            "--series",
            type=int,
            action="append",
            default=[],
            metavar="ID",
            help="Analyse this series (repeatable); with --series and/or --author only those are analysed.",
        )
        parser.add_argument(
            "--author", type=int, action="append", default=[], metavar="ID", help="Analyse this author (repeatable)."
        )
        parser.add_argument(
            "--full", action="store_true", help="Also analyse series and authors that did not change since last time."
        )

    def get_params(self, options) -> dict:
        # Checked here so unknown ids are refused before a JobRun is recorded.
        for flag, model, ids in (("--series", Series, options["series"]), ("--author", Author, options["author"])):
            unknown = sorted(set(ids) - set(model.objects.filter(id__in=ids).values_list("id", flat=True)))
            if unknown:
                raise CommandError(f"{flag}: no {model._meta.verbose_name} with id {', '.join(map(str, unknown))}.")
        series_ids, author_ids = options["series"], options["author"]
        if not series_ids and not author_ids:
            return gap_analysis_params(scope="all", full=options["full"])
        # Naming ids limits the run to them: no other series and no other authors.
        params = {"series_ids": sorted(set(series_ids)), "author_ids": sorted(set(author_ids))}
        if options["full"]:
            params["full"] = True
        return params
