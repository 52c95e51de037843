"""Query filters and the ordering allow-list of ``/api/v1/gaps/``."""

from __future__ import annotations

from django.db.models import Q
from django_filters import rest_framework as filters

from library.models import MissingBook
from library.models_gaps import GapReason, GapStatus
from library.selectors.gaps import author_gaps_q
from mamcrawler.api.filters import IntegerFilter, StableOrderingFilter


class GapFilterSet(filters.FilterSet):
    reason = filters.MultipleChoiceFilter(choices=GapReason.choices)
    status = filters.MultipleChoiceFilter(choices=GapStatus.choices)
    series = IntegerFilter(field_name="series", label="Series id")
    author = IntegerFilter(method="filter_author", label="Author id (primary author or any linked author)")
    priority = IntegerFilter(min_value=1, max_value=3, label="Priority (1 high … 3 low)")
    available = filters.BooleanFilter(method="filter_available", label="Has a MAM candidate")
    free = filters.BooleanFilter(method="filter_free", label="Its MAM candidate costs no ratio")
    ordering = StableOrderingFilter(
        fields=(
            ("priority", "priority"),
            ("series__name", "series"),
            ("position", "position"),
            ("first_seen", "first_seen"),
        ),
    )

    class Meta:
        model = MissingBook
        fields = ["reason", "status", "series", "author", "priority", "available", "free"]

    def filter_author(self, queryset, name, value: int):
        return queryset.filter(author_gaps_q(value))

    def filter_available(self, queryset, name, value):
        return queryset.filter(best_candidate__isnull=not value)

    def filter_free(self, queryset, name, value):
        free = Q(best_candidate__cost="free")
        return queryset.filter(free if value else ~free | Q(best_candidate__isnull=True))
