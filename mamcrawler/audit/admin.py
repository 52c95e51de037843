"""Read-only admin for the audit log: people look at entries, nobody edits or adds them."""

from django.contrib import admin

from mamcrawler.audit.models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "object_type", "object_id", "user", "api_key", "ip", "request_id")
    list_filter = ("action", "object_type", "created_at")
    search_fields = ("action", "object_type", "object_id", "request_id", "user__username", "ip")
    list_select_related = ("user", "api_key")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
