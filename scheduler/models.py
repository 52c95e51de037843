"""Job runs, per-job settings, cross-process job locks and the worker heartbeat."""

from django.conf import settings
from django.db import models

from scheduler.choices import RunStatus, Trigger


class JobRun(models.Model):
    """One run of a declared job, whoever started it; kept for ``JOB_HISTORY_DAYS``."""

    job = models.CharField(max_length=64)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    processed = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    log_tail = models.TextField(blank=True, default="", help_text="The last 200 log lines of the run.")
    task_id = models.CharField(max_length=64, blank=True, default="", help_text="The django-q2 task id.")
    params = models.JSONField(default=dict, blank=True, help_text="Arguments the job was started with.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="job_runs"
    )
    request_id = models.CharField(max_length=128, blank=True, default="")
    cancel_requested = models.BooleanField(default=False)
    worker = models.CharField(max_length=128, blank=True, default="", help_text="host:pid that ran it.")

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [
            models.Index(fields=["job", "-queued_at"]),
            models.Index(fields=["status"]),
            models.Index(fields=["trigger"]),
            models.Index(fields=["queued_at"]),
        ]

    def __str__(self):
        return f"{self.job} #{self.pk} ({self.status})"


class JobSetting(models.Model):
    """A person's change to a job's schedule or enabled flag; survives restarts and re-syncs."""

    name = models.CharField(max_length=64, primary_key=True)
    schedule = models.CharField(max_length=100, blank=True, default="", help_text="Cron or interval; blank = default.")
    enabled = models.BooleanField(null=True, blank=True, help_text="Blank = the declared default.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self):
        return self.name


class JobLock(models.Model):
    """Held while a job runs, so no second run of it starts on any process or host.

    A lock whose ``expires_at`` has passed belongs to a dead worker and may be taken over.
    """

    name = models.CharField(max_length=64, primary_key=True)
    run = models.ForeignKey(JobRun, null=True, on_delete=models.SET_NULL, related_name="+")
    owner = models.CharField(max_length=128)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} held by {self.owner}"


class WorkerHeartbeat(models.Model):
    """The last sign of life of each worker (``host:pid``), written by the heartbeat schedule."""

    worker = models.CharField(max_length=128, primary_key=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.worker} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
