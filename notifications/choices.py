"""Events, target kinds and delivery states (SPEC §10.1)."""

from django.db import models


class Event(models.TextChoices):
    BOOK_IMPORTED = "book_imported", "Book imported"
    DOWNLOAD_FAILED = "download_failed", "Download failed"
    DOWNLOAD_HELD = "download_held", "Download held by the account guard"
    GAPS_FOUND = "gaps_found", "New gaps found"
    MAM_SESSION_EXPIRED = "mam_session_expired", "MAM session expired"
    INTEGRATION_DOWN = "integration_down", "Integration unreachable"
    JOB_FAILED = "job_failed", "Job failed"
    # Not subscribable: "test" is sent on request, "digest" combines one job run's events.
    TEST = "test", "Test"
    DIGEST = "digest", "Digest of a job run"


# What a target may subscribe to (an empty list means all of these).
SUBSCRIBABLE = tuple(event for event in Event.values if event not in (Event.TEST, Event.DIGEST))


class TargetKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    APPRISE = "apprise", "Apprise"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
