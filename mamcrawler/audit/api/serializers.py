"""The audit log's representation (read-only)."""

from __future__ import annotations

from rest_framework import serializers

from mamcrawler.audit.models import AuditLog


class AuditLogSerializer(serializers.ModelSerializer):
    """An entry; ``changes`` are the submitted fields with secrets shown as ``***``."""

    username = serializers.CharField(source="user.username", read_only=True, allow_null=True, default=None)
    api_key_prefix = serializers.CharField(source="api_key.prefix", read_only=True, allow_null=True, default=None)
    changes = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = AuditLog
        fields = [
            "id",
            "created_at",
            "user",
            "username",
            "api_key",
            "api_key_prefix",
            "action",
            "object_type",
            "object_id",
            "changes",
            "ip",
            "user_agent",
            "request_id",
        ]
        read_only_fields = fields
