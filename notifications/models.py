"""Notification targets and the record of every delivery to them (SPEC §10.1)."""

from django.db import models

from notifications.choices import DeliveryStatus, Event, TargetKind


class Target(models.Model):
    """Where notifications go: a plain webhook or an Apprise URL, subscribed to some events.

    ``secret`` signs webhook bodies (HMAC-SHA256), so it is stored as given, not hashed: it is
    needed in clear to sign.  It is write-only in the API, never shown in the admin, never
    logged.  An Apprise URL often carries a token or password, so it is shown redacted.
    """

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=TargetKind.choices)
    url = models.CharField(max_length=2000, help_text="Webhook URL (http/https) or Apprise URL.")
    events = models.JSONField(default=list, blank=True, help_text="Subscribed events; empty means all.")
    secret = models.CharField(max_length=200, blank=True, default="", help_text="Webhook HMAC secret.")
    enabled = models.BooleanField(default=True)
    digest = models.BooleanField(default=False, help_text="One message per job run instead of one per event.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["kind"]),
            models.Index(fields=["enabled"]),
        ]

    def __str__(self):
        return self.name

    def subscribes(self, event: str) -> bool:
        return not self.events or event in self.events


class Delivery(models.Model):
    """One message to one target, with the outcome of its last attempt.

    ``payload`` is the webhook body (``event``, ``occurred_at``, ``data``).  A pending delivery
    is sent by its task or, once ``next_attempt_at`` has passed, by the ``notifications_retry``
    sweep.  Events of a job run for a digest target wait (``job_run_id`` set, no
    ``next_attempt_at``) until the run ends and are then sent as one ``digest`` delivery,
    which the parts point at (``digest``).
    """

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32, choices=Event.choices)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    job_run_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The job run that emitted it.")
    digest = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="parts", help_text="Sent as part of."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["event"]),
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["job_run_id"]),
        ]

    def __str__(self):
        return f"{self.event} → {self.target_id} ({self.status})"
