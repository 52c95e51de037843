"""Query filters and ordering for ``/api/v1/series/``."""

from __future__ import annotations

from django import forms
from django.db.models import F
from django_filters import rest_framework as filters
from django_filters.constants import EMPTY_VALUES
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from library.choices import CompletionStatus
from library.models import Series
from library.selectors.authors import series_of_author_q


class StableOrderingFilter(filters.OrderingFilter):
    """``ordering=`` over an allow-list; empty values sort last either way and ``id`` breaks ties.

    NULL placement differs between SQLite and PostgreSQL, and ties would make pages overlap.
    """

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        ordering = []
        for param in value:
            if param in EMPTY_VALUES:
                continue
            field = F(self.param_map[param.removeprefix("-")])
            ordering.append(field.desc(nulls_last=True) if param.startswith("-") else field.asc(nulls_last=True))
        return qs.order_by(*ordering, "id")


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(filters.NumberFilter):
    """A whole number such as an id or a count (``NumberFilter`` would accept ``1.5``)."""

    field_class = forms.IntegerField


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

    def filter_author(self, queryset, name, value):
        return queryset.filter(series_of_author_q(value))
