"""``/api/v1/admin/audit-logs/``: who changed what (admin, read-only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view

from mamcrawler.accounts.api.admin_access import ADMIN_TAGS, AdminAccessMixin
from mamcrawler.api.viewsets import ReadOnlyModelViewSet
from mamcrawler.audit.api.serializers import AuditLogSerializer
from mamcrawler.audit.filters import AuditLogFilterSet
from mamcrawler.audit.selectors import audit_log_queryset


@extend_schema_view(
    list=extend_schema(tags=ADMIN_TAGS, summary="Audit log entries, newest first"),
    retrieve=extend_schema(tags=ADMIN_TAGS, summary="An audit log entry"),
)
class AuditLogViewSet(AdminAccessMixin, ReadOnlyModelViewSet):
    """Every API write and admin-site change to users and keys; never edited."""

    queryset = audit_log_queryset()
    serializer_class = AuditLogSerializer
    filterset_class = AuditLogFilterSet
    search_fields = ["action", "object_type", "object_id", "request_id"]
