"""Query filters and the ordering allow-list of ``/api/v1/books/``."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django_filters import rest_framework as filters

from library.choices import BookStatus
from library.models import Book, BookAuthor, SeriesEntry
from mamcrawler.api.filters import IntegerFilter, StableOrderingFilter


class BookFilterSet(filters.FilterSet):
    status = filters.ChoiceFilter(choices=BookStatus.choices)
    author = IntegerFilter(field_name="book_authors__author", label="Author id")
    series = IntegerFilter(field_name="series_entries__series", label="Series id")
    narrator = IntegerFilter(field_name="narrators", label="Narrator id")
    language = filters.CharFilter(lookup_expr="iexact")
    format = filters.CharFilter(lookup_expr="iexact")
    abridged = filters.BooleanFilter()
    has_series = filters.BooleanFilter(method="filter_has_series", label="In at least one series")
    completeness_below = IntegerFilter(
        field_name="metadata_completeness", lookup_expr="lt", min_value=0, max_value=100, label="Completeness below"
    )
    added_after = filters.DateTimeFilter(field_name="date_added", lookup_expr="gte", label="Added at or after")
    added_before = filters.DateTimeFilter(field_name="date_added", lookup_expr="lt", label="Added before")
    monitored = filters.BooleanFilter(
        method="filter_monitored", label="Has a monitored author or is in a monitored series"
    )
    ordering = StableOrderingFilter(
        fields=(
            ("title", "title"),
            ("date_added", "date_added"),
            ("metadata_completeness", "completeness"),
            ("published_year", "published_year"),
            ("duration_seconds", "duration"),
        ),
    )

    class Meta:
        model = Book
        fields = [
            "status",
            "author",
            "series",
            "narrator",
            "language",
            "format",
            "abridged",
            "has_series",
            "completeness_below",
            "added_after",
            "added_before",
            "monitored",
        ]

    def filter_has_series(self, queryset, name, value):
        in_series = Exists(SeriesEntry.objects.filter(book_id=OuterRef("pk")))
        return queryset.filter(in_series if value else ~in_series)

    def filter_monitored(self, queryset, name, value):
        monitored = Exists(BookAuthor.objects.filter(book_id=OuterRef("pk"), author__monitored=True)) | Exists(
            SeriesEntry.objects.filter(book_id=OuterRef("pk"), series__monitored=True)
        )
        return queryset.filter(monitored if value else ~monitored)
