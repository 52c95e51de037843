"""Admin for gaps (MissingBook), and the owned/missing positions on the series page.

Imported at the end of ``library.admin``: it extends that module's ``SeriesAdmin``.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin, messages
from django.utils.html import format_html

from library.admin import SeriesAdmin
from library.models import MissingBook, Series
from library.models_gaps import GapReason, GapStatus
from library.positions import format_position
from library.selectors.series import series_completion
from library.services.completion import CLOSED_GAP_STATUSES
from library.services.gaps import gap_analysis_start, gap_reanalysis_params, gaps_recount, gaps_set_status
from mamcrawler.api.exceptions import Conflict
from scheduler.choices import Trigger


@admin.register(MissingBook)
class MissingBookAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "reason",
        "status",
        "priority",
        "series",
        "position_label",
        "primary_author",
        "resolved_book",
        "last_seen",
    )
    list_filter = (
        "reason",
        "status",
        "priority",
        ("series", admin.RelatedOnlyFieldListFilter),
        ("primary_author", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("title", "series__name", "primary_author__name", "isbn", "asin")
    list_select_related = ("series", "primary_author", "resolved_book")
    autocomplete_fields = ("series", "primary_author", "authors", "resolved_book")
    readonly_fields = ("title_key", "sources", "best_candidate", "first_seen", "last_seen", "resolved_at", "updated_at")
    actions = ("ignore", "want", "reanalyze")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        gaps_recount(gaps=[obj])

    def delete_queryset(self, request, queryset):
        gaps = list(queryset)
        super().delete_queryset(request, queryset)
        gaps_recount(gaps=gaps)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        gaps_recount(gaps=[obj])

    @admin.action(description="Ignore")
    def ignore(self, request, queryset):
        count = gaps_set_status(gaps=list(queryset), status=GapStatus.IGNORED)
        self.message_user(request, f"Ignoring {count} gap(s); completed ones keep their status.", messages.SUCCESS)

    @admin.action(description="Want")
    def want(self, request, queryset):
        count = gaps_set_status(gaps=list(queryset), status=GapStatus.WANTED)
        self.message_user(request, f"Wanting {count} gap(s); completed ones keep their status.", messages.SUCCESS)

    @admin.action(description="Re-analyze")
    def reanalyze(self, request, queryset):
        params = gap_reanalysis_params(gaps=list(queryset))
        try:
            run = gap_analysis_start(params=params, trigger=Trigger.ADMIN, user=request.user)
        except Conflict:
            self.message_user(request, "A gap analysis is already queued or running; try later.", messages.WARNING)
            return
        self.message_user(
            request,
            f"Queued gap analysis run {run.pk} for {len(params['series_ids'])} series "
            f"and {len(params['author_ids'])} author(s).",
            messages.SUCCESS,
        )


class MissingBookInline(admin.TabularInline):
    """A series' gaps, read-only, in reading order (change them on the gap's own page)."""

    model = MissingBook
    fk_name = "series"
    fields = ("position_label", "title", "status", "priority", "resolved_book", "last_seen")
    readonly_fields = fields
    ordering = ("position", "id")
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "gaps"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("resolved_book")

    def has_add_permission(self, request, obj=None):
        return False


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 4, 5, 6] → "1–2, 4–6"."""
    parts: list[str] = []
    start = previous = None
    for number in [*sorted(numbers), None]:
        if number is not None and previous is not None and number == previous + 1:
            previous = number
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}–{previous}")
        start = previous = number
    return ", ".join(parts)


admin.site.unregister(Series)


@admin.register(Series)
class SeriesWithGapsAdmin(SeriesAdmin):
    """The series admin, plus owned and missing positions and the series' gaps."""

    readonly_fields = (*SeriesAdmin.readonly_fields, "positions")
    inlines = (*SeriesAdmin.inlines, MissingBookInline)

    @admin.display(description="Positions")
    def positions(self, series: Series) -> str:
        if not series.pk:
            return "—"
        completion = series_completion(series=series)
        owned = _ranges(completion["owned_positions"])
        if completion["fractional_positions"]:
            owned = ", ".join(part for part in (owned, *completion["fractional_positions"]) if part)
        missing = (
            MissingBook.objects.filter(series=series, reason=GapReason.SERIES_GAP)
            .exclude(status__in=CLOSED_GAP_STATUSES)
            .order_by("position")
            .values_list("position", flat=True)
        )
        missing_text = ", ".join(format_position(Decimal(position)) for position in missing if position is not None)
        return format_html(
            "Owned: {}<br>Missing (open gaps): {}<br>Known to providers: {}",
            owned or "none",
            missing_text or "none",
            series.total_known if series.total_known is not None else "unknown",
        )
