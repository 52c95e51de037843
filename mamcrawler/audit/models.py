"""Who changed what, when, from where (SPEC §3 AuditLog)."""

from django.conf import settings
from django.db import models

USER_AGENT_LENGTH = 255


class AuditLog(models.Model):
    """One write through the API or one admin-site change to a user or API key.

    ``changes`` holds the submitted field names and values with secrets replaced by ``***``;
    rows are written by ``audit_record`` only and never edited.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_logs"
    )
    api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_logs"
    )
    action = models.CharField(max_length=100, db_index=True, help_text="e.g. books.partial_update")
    object_type = models.CharField(max_length=100, blank=True, db_index=True, help_text="e.g. library.book")
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    changes = models.JSONField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=USER_AGENT_LENGTH, blank=True)
    request_id = models.CharField(max_length=128, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self):
        target = f" {self.object_type}#{self.object_id}" if self.object_id else ""
        return f"{self.action}{target} at {self.created_at:%Y-%m-%d %H:%M:%S}"
