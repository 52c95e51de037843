"""Filter backend whose errors point at the query string (``loc`` starts with ``query``)."""

from django_filters.rest_framework import DjangoFilterBackend

from mamcrawler.api.exceptions import QueryValidationError


class FilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise QueryValidationError(dict(filterset.errors))
        return filterset.qs
