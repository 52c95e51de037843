"""``/api/v1/notifications/``: targets (admins write: they hold secrets) and the delivery record."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from mamcrawler.accounts.choices import Role
from mamcrawler.api.viewsets import ModelViewSet, ReadOnlyModelViewSet
from notifications import selectors
from notifications.api.serializers import DeliverySerializer, TargetSerializer
from notifications.filters import DeliveryFilterSet, TargetFilterSet
from notifications.security import redact_url
from notifications.services import target_test

TAGS = ["notifications"]
ADMIN_ACTIONS = ("create", "update", "partial_update", "destroy", "test")


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="List notification targets"),
    retrieve=extend_schema(tags=TAGS, summary="A notification target"),
    create=extend_schema(tags=TAGS, summary="Add a webhook or Apprise target (admin)"),
    update=extend_schema(tags=TAGS, summary="Replace a target (admin)"),
    partial_update=extend_schema(tags=TAGS, summary="Change a target (admin)"),
    destroy=extend_schema(tags=TAGS, summary="Delete a target and its deliveries (admin)"),
)
class TargetViewSet(ModelViewSet):
    """Webhooks and Apprise URLs that receive the events they subscribe to."""

    queryset = selectors.target_queryset()
    serializer_class = TargetSerializer
    filterset_class = TargetFilterSet
    search_fields = ["name"]
    required_roles = dict.fromkeys(ADMIN_ACTIONS, Role.ADMIN)

    def get_audit_changes(self, request):
        changes = super().get_audit_changes(request)
        # An Apprise URL may carry a token or password: the audit log keeps the masked form.
        if isinstance(changes, dict) and isinstance(changes.get("url"), str):
            changes = {**changes, "url": redact_url(changes["url"], kind=str(changes.get("kind") or "apprise"))}
        return changes

    @extend_schema(
        tags=TAGS,
        summary="Send the test event to this target now and answer its delivery (admin)",
        request=None,
        responses={200: OpenApiResponse(DeliverySerializer, description="The delivery, delivered or failed.")},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def test(self, request, pk=None):
        return Response(DeliverySerializer(target_test(target=self.get_object())).data)


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Deliveries, newest first"),
    retrieve=extend_schema(tags=TAGS, summary="A delivery"),
)
class DeliveryViewSet(ReadOnlyModelViewSet):
    """Every message sent or to be sent, with its status, attempts and last error."""

    queryset = selectors.delivery_queryset()
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet
    search_fields = ["error"]
