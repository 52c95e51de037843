"""Shapes of the scheduler API: job runs (SPEC §4.1), job states, status, upcoming runs, configuration."""

from __future__ import annotations

from rest_framework import serializers

from scheduler.api.schema import RunStatusField
from scheduler.models import JobRun
from scheduler.services import OFF
from scheduler.timing import parse_timing

RUN_FIELDS = [
    "id",
    "job",
    "trigger",
    "status",
    "queued_at",
    "started_at",
    "finished_at",
    "duration_seconds",
    "processed",
    "succeeded",
    "failed",
    "skipped",
    "summary",
    "error",
    "request_id",
    "requested_by",
    "task_id",
    "cancel_requested",
    "worker",
]


class JobRunSerializer(serializers.ModelSerializer):
    """A JobRun as lists show it."""

    status = RunStatusField()
    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Username of who started it."
    )

    class Meta:
        model = JobRun
        fields = RUN_FIELDS
        read_only_fields = RUN_FIELDS


class JobRunDetailSerializer(JobRunSerializer):
    """A JobRun with its log tail and the parameters it was started with."""

    class Meta(JobRunSerializer.Meta):
        fields = [*RUN_FIELDS, "log_tail", "params"]
        read_only_fields = fields


class LastRunSerializer(serializers.ModelSerializer):
    """The latest run of a job, briefly."""

    status = RunStatusField()

    class Meta:
        model = JobRun
        fields = ["id", "status", "trigger", "queued_at", "started_at", "finished_at", "duration_seconds"]
        read_only_fields = fields


class JobSerializer(serializers.Serializer):
    """A declared job (``scheduler.selectors.JobState``)."""

    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    schedule = serializers.CharField(read_only=True, help_text="Effective schedule: cron, interval or `off`.")
    default_schedule = serializers.CharField(read_only=True)
    schedule_source = serializers.ChoiceField(
        choices=["default", "env", "api"],
        read_only=True,
        help_text="Where the schedule comes from: the code, `SCHEDULE_<NAME>`, or a change through the API/admin.",
    )
    enabled = serializers.BooleanField(read_only=True)
    condition_ok = serializers.BooleanField(read_only=True, help_text="Whether the configuration lets it do work.")
    condition = serializers.CharField(read_only=True, help_text="What the job needs to do work, if anything.")
    timeout_seconds = serializers.IntegerField(read_only=True)
    next_run = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null while disabled.")
    last_run = LastRunSerializer(read_only=True, allow_null=True)
    running = serializers.BooleanField(read_only=True, help_text="A run holds the job's lock or waits in the queue.")


class JobUpdateInput(serializers.Serializer):
    """PATCH body of ``jobs/{name}/``."""

    schedule = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        trim_whitespace=True,
        help_text='Cron ("0 3 * * *"), interval ("15m", "6h", "1d"), "off", or blank for the default.',
    )
    enabled = serializers.BooleanField(required=False)

    def validate_schedule(self, value: str) -> str:
        if value and value.lower() != OFF:
            try:
                parse_timing(value)
            except ValueError as error:
                raise serializers.ValidationError(str(error), code="invalid_schedule")
        return value


class RunJobQuery(serializers.Serializer):
    wait = serializers.BooleanField(
        required=False, default=False, help_text="Run inline and answer 200 with the finished run."
    )


class UpcomingQuery(serializers.Serializer):
    hours = serializers.IntegerField(required=False, default=24, min_value=1, max_value=168)


class UpcomingRunSerializer(serializers.Serializer):
    job = serializers.CharField()
    at = serializers.DateTimeField()


class WorkerSerializer(serializers.Serializer):
    worker = serializers.CharField(help_text="Host of the worker.")
    seen_at = serializers.DateTimeField()
    alive = serializers.BooleanField()


class StatusSerializer(serializers.Serializer):
    now = serializers.DateTimeField()
    worker_alive = serializers.BooleanField(help_text="A heartbeat younger than two heartbeat intervals exists.")
    last_heartbeat = serializers.DateTimeField(allow_null=True)
    workers = WorkerSerializer(many=True)
    queue_length = serializers.IntegerField(allow_null=True, help_text="Tasks waiting; null when the broker is down.")
    running = JobRunSerializer(many=True)
    next_runs = UpcomingRunSerializer(many=True)


class SkippedJobSerializer(serializers.Serializer):
    job = serializers.CharField()
    reason = serializers.ChoiceField(choices=["disabled", "running", "not_declared"])


class RunAllSerializer(serializers.Serializer):
    queued = JobRunSerializer(many=True)
    skipped = SkippedJobSerializer(many=True)


class JobConfigurationSerializer(serializers.Serializer):
    name = serializers.CharField()
    default_schedule = serializers.CharField()
    env_schedule = serializers.CharField(allow_null=True)
    api_schedule = serializers.CharField(allow_null=True)
    schedule = serializers.CharField()
    schedule_source = serializers.ChoiceField(choices=["default", "env", "api"])
    enabled = serializers.BooleanField()
    timeout_seconds = serializers.IntegerField()


class ConfigurationSerializer(serializers.Serializer):
    broker = serializers.ChoiceField(choices=["orm", "redis", "other"])
    broker_location = serializers.CharField(allow_null=True, help_text="Credentials are redacted.")
    cluster_name = serializers.CharField()
    workers = serializers.IntegerField()
    timeout = serializers.IntegerField(allow_null=True)
    retry = serializers.IntegerField()
    max_attempts = serializers.IntegerField()
    catch_up = serializers.BooleanField()
    sync = serializers.BooleanField()
    job_history_days = serializers.IntegerField()
    job_stale_grace_seconds = serializers.IntegerField()
    heartbeat_minutes = serializers.IntegerField()
    jobs = JobConfigurationSerializer(many=True)
