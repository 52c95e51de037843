"""The project base viewsets: every resource view inherits from these."""

from rest_framework import mixins, viewsets


class BaseViewSet(viewsets.GenericViewSet):
    """Shared behaviour for all API viewsets (auth, roles, pagination, filters from settings).

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
