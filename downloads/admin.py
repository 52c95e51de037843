"""Admin for acquisition: downloads, MAM account snapshots and the MAM session (SPEC §3, §8).

Nothing here changes a status by itself: the actions call ``downloads.actions`` (the same
services as the API), one download at a time, and report each refusal instead of failing.
The ``mam_id`` cookie is never shown.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from downloads.account import guard_verdict
from downloads.actions import download_cancel, download_reimport, download_retry
from downloads.models import Download, MamAccountSnapshot, MamSession
from mamcrawler.api.exceptions import AppError


def human_size(size_bytes: int | None) -> str:
    return "-" if size_bytes is None else filesizeformat(size_bytes)


@admin.register(Download)
class DownloadAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "author",
        "status",
        "source",
        "progress_percent",
        "size",
        "is_free",
        "used_wedge",
        "retry_count",
        "next_retry_at",
        "created_at",
        "linked_to",
    )
    list_filter = ("status", "source", "is_free", "used_wedge", "created_at")
    search_fields = ("title", "author", "^info_hash", "=mam_torrent_id")
    list_select_related = ("book", "missing_book")
    date_hierarchy = "created_at"
    # Only the snapshot of what is downloaded and the retry policy are editable; the status and
    # everything the client or the state machine writes move only through the services.
    fieldsets = (
        (None, {"fields": ("title", "author", "priority", "max_retries")}),
        ("Status", {"fields": ("status", "status_changed_at", "last_error", "retry_count", "next_retry_at")}),
        ("Torrent", {"fields": ("source", "mam_torrent_id", "info_hash", "magnet", "is_free", "is_vip", "used_wedge")}),
        ("Client", {"fields": ("client_state", "progress_percent", "size", "save_path", "content_path")}),
        ("Library", {"fields": ("linked_to",)}),
        ("History", {"fields": ("transition_log", "claimed_by", "claimed_at", "created_at", "updated_at")}),
    )
    readonly_fields = (
        "status",
        "status_changed_at",
        "last_error",
        "retry_count",
        "next_retry_at",
        "source",
        "mam_torrent_id",
        "info_hash",
        "magnet",
        "is_free",
        "is_vip",
        "used_wedge",
        "client_state",
        "progress_percent",
        "size",
        "save_path",
        "content_path",
        "linked_to",
        "transition_log",
        "claimed_by",
        "claimed_at",
        "created_at",
        "updated_at",
    )
    exclude = ("torrent_file",)
    actions = ("retry_now", "cancel", "cancel_and_remove_torrent", "reimport")

    def has_add_permission(self, request):
        return False  # downloads are created by the API and the jobs, through the account guard

    @admin.display(description="progress", ordering="progress")
    def progress_percent(self, download: Download) -> str:
        return f"{download.progress * 100:.0f}%"

    @admin.display(description="size", ordering="size_bytes")
    def size(self, download: Download) -> str:
        return human_size(download.size_bytes)

    @admin.display(description="book / gap")
    def linked_to(self, download: Download) -> str:
        links = []
        if download.book_id:
            links.append(("book", reverse("admin:library_book_change", args=[download.book_id]), download.book))
        if download.missing_book_id:
            gap_url = reverse("admin:library_missingbook_change", args=[download.missing_book_id])
            links.append(("gap", gap_url, download.missing_book))
        if not links:
            return "-"
        return format_html_join(", ", '{}: <a href="{}">{}</a>', links)

    @admin.display(description="transitions")
    def transition_log(self, download: Download) -> str:
        if not download.transitions:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (entry.get("at", ""), entry.get("from") or "(new)", entry.get("to", ""), entry.get("reason", ""))
                for entry in download.transitions
            ),
        )
        return format_html(
            "<table><thead><tr><th>at</th><th>from</th><th>to</th><th>reason</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    def _each(self, request, queryset, action, done: str, **kwargs) -> None:
        """Run ``action`` on every selected download; report what worked and each refusal."""
        actor = request.user.get_username()
        succeeded = []
        for download in queryset.order_by("pk"):
            try:
                action(download=download, actor=actor, **kwargs)
            except (AppError, OSError) as exc:
                detail = exc.detail if isinstance(exc, AppError) else exc
                self.message_user(request, f"#{download.pk} “{download.title}”: {detail}", messages.ERROR)
                continue
            succeeded.append(download)
        if succeeded:
            names = ", ".join(f"#{d.pk} “{d.title}”" for d in succeeded)
            self.message_user(request, f"{done} {len(succeeded)} download(s). {names}", messages.SUCCESS)

    @admin.action(description="Retry now")
    def retry_now(self, request, queryset):
        self._each(request, queryset, download_retry, "Requeued")

    @admin.action(description="Cancel")
    def cancel(self, request, queryset):
        self._each(request, queryset, download_cancel, "Cancelled")

    @admin.action(description="Cancel and remove torrent")
    def cancel_and_remove_torrent(self, request, queryset):
        self._each(request, queryset, download_cancel, "Cancelled and removed from qBittorrent", remove_torrent=True)

    @admin.action(description="Re-import")
    def reimport(self, request, queryset):
        self._each(request, queryset, download_reimport, "Re-imported")


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows only the system writes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MamAccountSnapshot)
class MamAccountSnapshotAdmin(ViewOnlyAdmin):
    """Account snapshots, with the account guard's current verdict above the list."""

    list_display = (
        "taken_at",
        "username",
        "ratio",
        "uploaded",
        "downloaded",
        "unsatisfied",
        "wedges",
        "classname",
        "site_freeleech",
    )
    list_filter = ("site_freeleech", "classname")
    search_fields = ("username",)
    date_hierarchy = "taken_at"

    @admin.display(description="uploaded", ordering="uploaded_bytes")
    def uploaded(self, snapshot: MamAccountSnapshot) -> str:
        return human_size(snapshot.uploaded_bytes)

    @admin.display(description="downloaded", ordering="downloaded_bytes")
    def downloaded(self, snapshot: MamAccountSnapshot) -> str:
        return human_size(snapshot.downloaded_bytes)

    @admin.display(description="unsatisfied", ordering="unsat_count")
    def unsatisfied(self, snapshot: MamAccountSnapshot) -> str:
        return f"{snapshot.unsat_count}/{snapshot.unsat_limit}"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "guard_verdict": guard_verdict()}
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(MamSession)
class MamSessionAdmin(ViewOnlyAdmin):
    """The state of the MAM session; the cookie itself is a secret and never displayed."""

    list_display = ("__str__", "expired", "last_error", "updated_at", "seedbox_updated_at", "seedbox_message")
    fields = ("expired", "last_error", "updated_at", "seedbox_updated_at", "seedbox_message")
    readonly_fields = fields
    exclude = ("mam_id", "configured_hash", "next_request_at")

    def has_delete_permission(self, request, obj=None):
        return False  # the row holds the newest cookie MAM sent; deleting it would lose that
