"""Query filters and ordering for ``/api/v1/series/``."""

from __future__ import annotations

from django_filters import rest_framework as filters

from library.choices import CompletionStatus
from library.models import Series
from library.selectors.authors import series_of_author_q
from mamcrawler.api.filters import IntegerFilter, StableOrderingFilter


class SeriesFilterSet(filters.FilterSet):
    completion_status = filters.MultipleChoiceFilter(choices=CompletionStatus.choices)
    author = IntegerFilter(method="filter_author", label="Author id (primary author or any listed author)")
    monitored = filters.BooleanFilter()
    min_completion = filters.NumberFilter(field_name="completion_percentage", lookup_expr="gte")
    max_completion = filters.NumberFilter(field_name="completion_percentage", lookup_expr="lte")
    ordering = StableOrderingFilter(
        fields=(("name", "name"), ("completion_percentage", "completion"), ("books_missing", "missing")),
    )

    class Meta:
        model = Series
        fields = ["completion_status", "author", "monitored", "min_completion", "max_completion"]

    def filter_author(self, queryset, name, value: int):
        return queryset.filter(series_of_author_q(value))
