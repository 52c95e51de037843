"""The mam_account job as a command: ``manage.py mam_account``."""

from __future__ import annotations

from scheduler.commands import JobCommand


class Command(JobCommand):
    help = "Take a MAM account snapshot (ratio, unsatisfied, wedges) now (the mam_account job)."

    job_name = "mam_account"
