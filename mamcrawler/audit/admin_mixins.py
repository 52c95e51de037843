"""Audit entries for Django-admin changes (SPEC §3: every admin action on users and keys).

Mixed into a ``ModelAdmin``: the admin's own history hooks (``log_addition``, ``log_change``,
``log_deletions``) also write an AuditLog, with the changed form fields and their new values
— secrets (password fields) as ``***``, never a hash.
"""

from __future__ import annotations

from django.db import models

from mamcrawler.audit.services import audit_record, is_secret, request_details

_CHANGES = "_audit_changes"


def _plain(value):
    """A form value as JSON: model instances by primary key."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.QuerySet | list | tuple | set):
        return [_plain(item) for item in value]
    return value


class AuditedAdminMixin:
    """Records admin additions, changes, deletions (and ``audit_admin_action`` calls) as AuditLogs."""

    audit_resource = ""  # e.g. "users": actions read "users.admin_update"

    def construct_change_message(self, request, form, formsets, add=False):
        # Called with the bound form just before log_addition/log_change: keep what changed.
        changes = {}
        for name in form.changed_data:
            changes[name] = "***" if is_secret(name) else _plain(form.cleaned_data.get(name))
        setattr(request, _CHANGES, changes)
        return super().construct_change_message(request, form, formsets, add)

    def audit_admin_action(self, request, obj, verb: str, changes: dict | None = None) -> None:
        """One AuditLog for ``verb`` (``admin_revoke``, …) done to ``obj`` through the admin site."""
        audit_record(
            action=f"{self.audit_resource or obj._meta.model_name}.{verb}",
            object_type=obj._meta.label_lower,
            object_id=obj.pk,
            changes=changes,
            **request_details(request),
        )

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self.audit_admin_action(request, obj, "admin_create", getattr(request, _CHANGES, None))
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self.audit_admin_action(request, obj, "admin_update", getattr(request, _CHANGES, None))
        return entry

    def log_deletions(self, request, queryset):
        objects = list(queryset)
        entries = super().log_deletions(request, objects)
        for obj in objects:
            self.audit_admin_action(request, obj, "admin_delete")
        return entries
