"""Filter backend whose errors point at the query string (``loc`` starts with ``query``)."""

from django_filters.rest_framework import DjangoFilterBackend

from mamcrawler.api.exceptions import QueryValidationError


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
