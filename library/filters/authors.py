"""Query filters and ordering for ``/api/v1/authors/``."""

from __future__ import annotations

from django_filters import rest_framework as filters

from library.choices import CompletionStatus
from library.models import Author
from mamcrawler.api.filters import IntegerFilter, StableOrderingFilter


class AuthorFilterSet(filters.FilterSet):
    monitored = filters.BooleanFilter()
    min_books = IntegerFilter(
        field_name="books_owned", lookup_expr="gte", min_value=0, label="At least this many owned books"
    )
    completion_status = filters.MultipleChoiceFilter(choices=CompletionStatus.choices)
    ordering = StableOrderingFilter(
        fields=(("sort_name", "name"), ("books_owned", "books_owned"), ("books_missing", "missing")),
    )

    class Meta:
        model = Author
        fields = ["monitored", "min_books", "completion_status"]
