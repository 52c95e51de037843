"""The cleanup job as a command."""

from scheduler.commands import JobCommand


class Command(JobCommand):
    help = "Delete JobRuns older than JOB_HISTORY_DAYS and expired throttle counters (the cleanup job), now."

    job_name = "cleanup"
