"""Query filters and the ordering allow-list of ``/api/v1/downloads/``."""

from __future__ import annotations

from django_filters import rest_framework as filters

from downloads.models import Download, DownloadSource, DownloadStatus
from mamcrawler.api.filters import IntegerFilter, StableOrderingFilter


class DownloadFilterSet(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=DownloadStatus.choices)
    source = filters.MultipleChoiceFilter(choices=DownloadSource.choices)
    book = IntegerFilter(field_name="book", label="Book id")
    missing_book = IntegerFilter(field_name="missing_book", label="Gap (missing book) id")
    created_after = filters.DateTimeFilter(field_name="created_at", lookup_expr="gte", label="Created at or after")
    created_before = filters.DateTimeFilter(field_name="created_at", lookup_expr="lt", label="Created before")
    ordering = StableOrderingFilter(
        fields=(
            ("created_at", "created_at"),
            ("updated_at", "updated_at"),
            ("priority", "priority"),
            ("status", "status"),
            ("title", "title"),
            ("progress", "progress"),
        ),
    )

    class Meta:
        model = Download
        fields = ["status", "source", "book", "missing_book", "created_after", "created_before"]
