"""The project base viewsets: every resource view inherits from these."""

from rest_framework import mixins, viewsets
from rest_framework.response import Response

from mamcrawler.api.exceptions import PathValidationError
from mamcrawler.api.throttling import TieredThrottleMixin
from mamcrawler.audit.api.mixins import AuditedViewMixin

MAX_PK = 2**63 - 1


class BaseViewSet(AuditedViewMixin, TieredThrottleMixin, viewsets.GenericViewSet):
    """Shared behaviour for all API viewsets (auth, roles, throttle tier, pagination, filters).

    Every successful write is recorded in the audit log (``AuditedViewMixin``).

    Reads count against the ``read`` tier and writes against ``write``; an action names
    another tier with ``@action(..., throttle_tier="search")``.

    Subclasses declare ``queryset``, ``serializer_class``, ``filterset_class``,
    ``search_fields`` and ``ordering_fields``.
    """

    def paginated_response(self, queryset, serializer_class) -> Response:
        """One page of ``queryset`` in ``serializer_class``, for list-like ``@action`` routes."""
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(
            serializer_class(page, many=True, context=self.get_serializer_context()).data
        )

    def get_object(self):
        """The object named in the path; ``{id}`` must be a positive integer (422 otherwise)."""
        lookup = self.lookup_url_kwarg or self.lookup_field
        raw = self.kwargs.get(lookup, "")
        if self.lookup_field in ("pk", "id") and not (raw.isdigit() and 0 < int(raw) <= MAX_PK):
            raise PathValidationError({lookup: ["Must be a positive integer id."]})
        return super().get_object()


class ModelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    BaseViewSet,
):
    """List, retrieve, create, update and delete."""


class ReadOnlyModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """List and retrieve only."""
