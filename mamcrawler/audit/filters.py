"""Query filters and the ordering allow-list of ``/api/v1/admin/audit-logs/``."""

from __future__ import annotations

from django_filters import rest_framework as filters

from mamcrawler.api.filters import IntegerFilter, StableOrderingFilter
from mamcrawler.audit.models import AuditLog


class AuditLogFilterSet(filters.FilterSet):
    user = IntegerFilter(field_name="user_id", label="User id")
    api_key = IntegerFilter(field_name="api_key_id", label="API key id")
    action = filters.CharFilter(label="Action, e.g. books.partial_update")
    action_prefix = filters.CharFilter(
        field_name="action", lookup_expr="startswith", label="Actions starting with, e.g. books."
    )
    object_type = filters.CharFilter(label="Object type, e.g. library.book")
    object_id = filters.CharFilter(label="Object id")
    request_id = filters.CharFilter(label="Request id")
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label="At or after")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt", label="Before")
    ordering = StableOrderingFilter(fields=(("created_at", "created_at"), ("action", "action")))

    class Meta:
        model = AuditLog
        fields = [
            "user",
            "api_key",
            "action",
            "action_prefix",
            "object_type",
            "object_id",
            "request_id",
            "created_after",
            "created_before",
        ]
