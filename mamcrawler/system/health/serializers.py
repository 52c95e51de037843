"""Response shapes of the health endpoints, for the OpenAPI schema."""

from rest_framework import serializers


class HealthCheckSerializer(serializers.Serializer):
    """One check: a status plus whatever details that check reports."""

    # Plain strings rather than enums: every "status" enum in the schema would collide by name
    # with the others (drf-spectacular's ENUM_NAME_OVERRIDES would be the place to settle it).
    status = serializers.CharField(help_text="ok, warning or error.")
    message = serializers.CharField(required=False, help_text="What is wrong, or a note.")
    latency_ms = serializers.FloatField(required=False, help_text="database, cache: round-trip time.")
    vendor = serializers.CharField(required=False, help_text="database: sqlite or postgresql.")
    backend = serializers.CharField(required=False, help_text="cache: the cache backend class.")
    error_type = serializers.CharField(required=False, help_text="The exception class of a failed probe.")
    worker = serializers.CharField(required=False, help_text="worker: the host of the newest heartbeat.")
    last_seen = serializers.DateTimeField(required=False, help_text="worker: the newest heartbeat.")
    age_seconds = serializers.IntegerField(required=False, help_text="worker: age of the newest heartbeat.")
    max_age_seconds = serializers.IntegerField(required=False, help_text="worker: older than this is a warning.")
    unapplied = serializers.IntegerField(required=False, help_text="migrations: how many are not applied.")
    pending = serializers.ListField(child=serializers.CharField(), required=False, help_text="migrations: names.")
    configured = serializers.BooleanField(required=False, help_text="integrations: whether settings name it.")
    state = serializers.CharField(required=False, help_text="integrations: configured or not_configured.")


class HealthSerializer(serializers.Serializer):
    """``healthy``, ``degraded`` (still 200) or ``unhealthy`` (503), with each check."""

    status = serializers.CharField(help_text="healthy, degraded (200) or unhealthy (503).")
    timestamp = serializers.CharField(help_text="ISO-8601 UTC with Z.")
    checks = serializers.DictField(child=HealthCheckSerializer())
