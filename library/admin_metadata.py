"""Admin for metadata history and the provider cache; registered by ``library.admin``.

Corrections are history: nobody edits them, and the only action is a revert through the
same service as the API.  Provider cache and state are written by the registry.
"""

from django.contrib import admin, messages

from library.models import MetadataCorrection, ProviderCache, ProviderState
from library.services.metadata import correction_revert
from mamcrawler.api.exceptions import Conflict


class SystemRowsAdmin(admin.ModelAdmin):
    """Rows the system writes: shown, never added or edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RevertedFilter(admin.SimpleListFilter):
    title = "reverted"
    parameter_name = "reverted"

    def lookups(self, request, model_admin):
        return (("yes", "Yes"), ("no", "No"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(reverted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(reverted_at__isnull=True)
        return queryset


@admin.register(MetadataCorrection)
class MetadataCorrectionAdmin(SystemRowsAdmin):
    list_display = (
        "created_at",
        "book",
        "field",
        "source",
        "confidence",
        "created_by",
        "job_run",
        "reason",
        "reverted_at",
    )
    list_filter = ("source", "field", RevertedFilter)
    search_fields = ("book__title",)
    list_select_related = ("book", "created_by", "job_run")
    date_hierarchy = "created_at"
    actions = ("revert",)

    def get_actions(self, request):
        # History is kept: no bulk delete (a book deleted for good still takes its history along).
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Revert (restore the old values)")
    def revert(self, request, queryset):
        reverted, refused = 0, []
        # Newest first, so reverting a field's successive changes walks back in order.
        for correction in queryset.order_by("-created_at", "-id"):
            try:
                correction_revert(correction=correction, user=request.user)
                reverted += 1
            except Conflict as exc:
                refused.append(f"#{correction.pk}: {exc.detail}")
        if reverted:
            self.message_user(request, f"Reverted {reverted} correction(s).", messages.SUCCESS)
        for text in refused:
            self.message_user(request, f"Not reverted {text}", messages.WARNING)


@admin.register(ProviderCache)
class ProviderCacheAdmin(SystemRowsAdmin):
    list_display = ("provider", "key", "status", "fetched_at", "expires_at")
    list_filter = ("provider", "status")
    search_fields = ("key",)
    date_hierarchy = "fetched_at"


@admin.register(ProviderState)
class ProviderStateAdmin(SystemRowsAdmin):
    list_display = (
        "provider",
        "consecutive_failures",
        "opened_until",
        "last_success_at",
        "last_failure_at",
        "requests",
        "failures",
        "last_error",
    )
    search_fields = ("provider", "last_error")
