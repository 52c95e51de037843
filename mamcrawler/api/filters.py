"""Query-string plumbing: the filter backend, shared filters, and query-parameter validation.

Errors point at the query string (``loc`` starts with ``query``).
"""

from django import forms
from django.db.models import F
from django_filters import rest_framework as filters
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend

from mamcrawler.api.exceptions import QueryValidationError


def validated_query(serializer_class, request) -> dict:
    """``request``'s query parameters validated by ``serializer_class`` (422 at ``["query", name]``)."""
    serializer = serializer_class(data=request.query_params)
    if not serializer.is_valid():
        raise QueryValidationError(serializer.errors)
    return serializer.validated_data


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend; skips building the FilterSet when no filter is asked for."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        asked = set(request.query_params)
        # Building and validating the form costs ~2 ms per request; skip it when it can do nothing.
        if not any(name == key or key.startswith(f"{name}_") for key in asked for name in filterset_class.base_filters):
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise QueryValidationError(dict(filterset.errors))
        return filterset.qs


class IntegerFilter(filters.NumberFilter):
    """A whole number such as an id or a count (``NumberFilter`` would accept ``1.5``).

    The schema says ``integer`` from the model field, or for ``method=`` filters from the
    method's ``value: int`` hint. Not ``@extend_schema_field``: it would drop the ``label``.
    """

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        # Beyond a 64-bit integer the database driver raises OverflowError (a 500); refuse it as a 422.
        kwargs.setdefault("min_value", -(2**63))
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class StableOrderingFilter(filters.OrderingFilter):
    """``ordering=`` over an allow-list; unknown (NULL) values sort last either way, ``id`` breaks ties.

    NULL placement differs between SQLite and PostgreSQL, and ties would make pages overlap.
    Every FilterSet's ``ordering`` uses this, so the rule lives in one place.
    """

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        ordering = []
        for param in value:
            if param in EMPTY_VALUES:  # ``ordering=title,`` names an empty field; skip it
                continue
            field = F(self.param_map[param.removeprefix("-")])
            ordering.append(field.desc(nulls_last=True) if param.startswith("-") else field.asc(nulls_last=True))
        return qs.order_by(*ordering, "id")
