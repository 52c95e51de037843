"""Admin for downloads: status changes go through ``downloads.state`` like everywhere else."""

from __future__ import annotations

from django.contrib import admin, messages

from downloads.models import Download, DownloadStatus
from downloads.state import download_transition
from mamcrawler.api.exceptions import Conflict


@admin.register(Download)
class DownloadAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "status", "source", "progress", "retry_count", "next_retry_at", "created_at")
    list_filter = ("status", "source")
    search_fields = ("title", "info_hash", "=mam_torrent_id")
    list_select_related = ("book", "missing_book")
    raw_id_fields = ("book", "missing_book")
    # The status and its log move only through the state machine, never by editing the form.
    readonly_fields = (
        "status",
        "transitions",
        "status_changed_at",
        "retry_count",
        "next_retry_at",
        "last_error",
        "claimed_by",
        "claimed_at",
        "created_at",
        "updated_at",
    )
    exclude = ("torrent_file",)
    actions = ("retry_now",)
    date_hierarchy = "created_at"

    @admin.action(description="Retry now")
    def retry_now(self, request, queryset):
        requeued = 0
        for download in queryset.filter(status=DownloadStatus.FAILED):
            try:
                download_transition(download=download, to=DownloadStatus.QUEUED, reason=f"retry by {request.user}")
            except Conflict:
                continue  # changed meanwhile: counted below as left alone
            requeued += 1
        skipped = queryset.count() - requeued
        self.message_user(request, f"Requeued {requeued} download(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} download(s) were not failed (or changed meanwhile) and were left alone.",
                messages.WARNING,
            )
