"""Metadata history and the provider cache (SPEC §3, §7). Imported by ``library.models``."""

from django.conf import settings
from django.db import models


class CorrectionSource(models.TextChoices):
    OPENLIBRARY = "openlibrary", "OpenLibrary"
    GOOGLEBOOKS = "googlebooks", "Google Books"
    HARDCOVER = "hardcover", "Hardcover"
    AUDNEXUS = "audnexus", "Audnexus"
    MAM = "mam", "MyAnonamouse"
    ABS = "abs", "Audiobookshelf"
    MANUAL = "manual", "Manual"


class MetadataCorrection(models.Model):
    """One change of one book field, automatic or by a person; kept forever (the history)."""

    book = models.ForeignKey("library.Book", on_delete=models.CASCADE, related_name="corrections")
    field = models.CharField(max_length=50)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    source = models.CharField(max_length=20, choices=CorrectionSource.choices)
    reason = models.CharField(max_length=255, blank=True, default="")
    confidence = models.FloatField(default=1.0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job_run = models.ForeignKey(
        "scheduler.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="corrections"
    )
    reverted_at = models.DateTimeField(null=True, blank=True)
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reverts = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reverted_by_correction"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["book", "field", "-created_at"]),
            models.Index(fields=["source", "-created_at"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self):
        return f"{self.book_id}.{self.field} by {self.source}"


class ProviderCache(models.Model):
    """A provider response kept so reruns and outages need no network (SPEC §7.1)."""

    provider = models.CharField(max_length=20)
    key = models.CharField(max_length=255, help_text="The request, e.g. isbn:9780765326355.")
    payload = models.JSONField(null=True, blank=True)
    status = models.PositiveSmallIntegerField(default=200, help_text="HTTP status; 404 caches 'not found'.")
    fetched_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "key"], name="library_providercache_unique")]

    def __str__(self):
        return f"{self.provider}:{self.key}"


class ProviderState(models.Model):
    """A provider's health, shared by every process: circuit breaker and counters."""

    provider = models.CharField(max_length=20, primary_key=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    opened_until = models.DateTimeField(null=True, blank=True, help_text="Circuit open (skipped) until then.")
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    requests = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)

    def __str__(self):
        return self.provider
