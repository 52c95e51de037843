"""Reads of the audit log."""

from __future__ import annotations

from django.db.models import QuerySet

from mamcrawler.audit.models import AuditLog


def audit_log_queryset() -> QuerySet[AuditLog]:
    """Entries newest first, with the user and API key joined (one query per page)."""
    return AuditLog.objects.select_related("user", "api_key").order_by("-created_at", "-id")
