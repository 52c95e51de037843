"""Run any declared job now, in this process."""

from __future__ import annotations

import inspect
import json

from django.core.management.base import CommandError

from scheduler.commands import JobCommand
from scheduler.schedules import get_job


class Command(JobCommand):
    help = "Run a declared job now in this process (a JobRun with trigger 'command') and print its summary."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The job's name, e.g. cleanup.")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="A keyword argument for the job; repeatable. VALUE is read as JSON when it parses (10, true, [1,2]).",
        )

    def get_job_name(self, options) -> str:
        return options["name"]

    def get_params(self, options) -> dict:
        params = {}
        for item in options["param"]:
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or not key.isidentifier():
                raise CommandError(f"--param expects KEY=VALUE, got {item!r}.")
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        self._check_params(options["name"], params)
        return params

    @staticmethod
    def _check_params(name: str, params: dict) -> None:
        """Refuse parameters the job's function does not take, before a run is recorded."""
        signature = inspect.signature(get_job(name).load())
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
            return
        accepted = [p for p in signature.parameters if p != "job"]
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            raise CommandError(
                f"Job {name} does not take {', '.join(unknown)}; it takes: {', '.join(accepted) or 'no parameters'}."
            )
