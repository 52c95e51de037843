"""The project base viewsets: every resource view inherits from these."""

from rest_framework import mixins, viewsets

from mamcrawler.api.throttling import TieredThrottleMixin


class BaseViewSet(TieredThrottleMixin, viewsets.GenericViewSet):
    """Shared behaviour for all API viewsets (auth, roles, throttle tier, pagination, filters).

    Reads count against the ``read`` tier and writes against ``write``; an action names
    another tier with ``@action(..., throttle_tier="search")``.

    Subclasses declare ``queryset``, ``serializer_class``, ``filterset_class``,
    ``search_fields`` and ``ordering_fields``.
    """


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
