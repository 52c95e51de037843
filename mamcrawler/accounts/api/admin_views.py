"""``/api/v1/admin/``: users, API keys, maintenance (admin role or an ``admin``-scoped key)."""

from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from mamcrawler.accounts.api.admin_access import ADMIN_TAGS, AdminAccessMixin
from mamcrawler.accounts.api.admin_serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateInput,
    ApiKeySerializer,
    CacheClearQuery,
    CacheClearSerializer,
    PasswordChangeInput,
    UserSerializer,
)
from mamcrawler.accounts.filters import ApiKeyFilterSet, UserFilterSet
from mamcrawler.accounts.maintenance import cache_clear
from mamcrawler.accounts.selectors import api_key_queryset, user_queryset
from mamcrawler.accounts.services import (
    api_key_create,
    api_key_revoke,
    user_create,
    user_delete,
    user_set_password,
    user_update,
)
from mamcrawler.api.filters import validated_query
from mamcrawler.api.throttling import TieredThrottleMixin
from mamcrawler.api.viewsets import BaseViewSet, ModelViewSet
from mamcrawler.audit.api.mixins import AuditedViewMixin
from scheduler.api.serializers import JobRunDetailSerializer, RunJobQuery
from scheduler.choices import Trigger
from scheduler.runner import job_start

LAST_ADMIN = OpenApiResponse(description="It would leave no active admin (`conflict`).")
RUNNING = OpenApiResponse(description="A cleanup run is already queued or running (`conflict`).")


@extend_schema_view(
    list=extend_schema(tags=ADMIN_TAGS, summary="List users"),
    retrieve=extend_schema(tags=ADMIN_TAGS, summary="A user"),
    create=extend_schema(tags=ADMIN_TAGS, summary="Create a user (password checked by the validators)"),
    update=extend_schema(tags=ADMIN_TAGS, summary="Replace a user", responses={200: UserSerializer, 409: LAST_ADMIN}),
    partial_update=extend_schema(
        tags=ADMIN_TAGS, summary="Change a user", responses={200: UserSerializer, 409: LAST_ADMIN}
    ),
    destroy=extend_schema(tags=ADMIN_TAGS, summary="Delete a user", responses={204: None, 409: LAST_ADMIN}),
)
class UserViewSet(AdminAccessMixin, ModelViewSet):
    """People and their roles; the last active admin can be neither removed nor demoted."""

    queryset = user_queryset()
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    search_fields = ["username", "email"]

    def perform_create(self, serializer):
        serializer.instance = user_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = user_update(user=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        user_delete(user=instance)

    @extend_schema(
        tags=ADMIN_TAGS,
        summary="Set a user's password (your own needs current_password)",
        request=PasswordChangeInput,
        responses={204: None},
    )
    @action(detail=True, methods=["post"], filter_backends=[], serializer_class=PasswordChangeInput)
    def password(self, request, pk=None):
        user = self.get_object()
        serializer = PasswordChangeInput(data=request.data, context={"request": request, "user": user})
        serializer.is_valid(raise_exception=True)
        user_set_password(user=user, password=serializer.validated_data["password"])
        if user.pk == request.user.pk:
            update_session_auth_hash(request._request, user)  # a session login stays valid
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(tags=ADMIN_TAGS, summary="List API keys (prefix only)"),
    retrieve=extend_schema(tags=ADMIN_TAGS, summary="An API key (prefix only)"),
    destroy=extend_schema(tags=ADMIN_TAGS, summary="Delete an API key"),
)
class ApiKeyViewSet(
    AdminAccessMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    BaseViewSet,
):
    """Everyone's API keys; the secret exists only in the create answer."""

    queryset = api_key_queryset()
    serializer_class = ApiKeySerializer
    filterset_class = ApiKeyFilterSet
    search_fields = ["name", "prefix", "user__username"]

    @extend_schema(
        tags=ADMIN_TAGS,
        summary="Create an API key (the answer holds the secret, once)",
        request=ApiKeyCreateInput,
        responses={201: ApiKeyCreatedSerializer},
    )
    def create(self, request):
        serializer = ApiKeyCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key, secret = api_key_create(
            user=data.get("user") or request.user,
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data["expires_at"],
        )
        key.key = secret
        return Response(ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=ADMIN_TAGS, summary="Revoke an API key now", request=None, responses=ApiKeySerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def revoke(self, request, pk=None):
        return Response(ApiKeySerializer(api_key_revoke(key=self.get_object())).data)


class AdminView(AdminAccessMixin, AuditedViewMixin, TieredThrottleMixin, APIView):
    """A single admin endpoint."""


class MaintenanceCleanupView(AdminView):
    audit_object_type = "scheduler.jobrun"

    @extend_schema(
        tags=ADMIN_TAGS,
        summary="Run the cleanup job (202 with the queued run; 200 with the finished run when wait=true)",
        parameters=[RunJobQuery],
        request=None,
        responses={202: JobRunDetailSerializer, 200: JobRunDetailSerializer, 409: RUNNING},
    )
    def post(self, request):
        wait = validated_query(RunJobQuery, request)["wait"]
        run = job_start(name="cleanup", trigger=Trigger.API, user=request.user, wait=wait)
        code = status.HTTP_200_OK if wait else status.HTTP_202_ACCEPTED
        return Response(JobRunDetailSerializer(run).data, status=code)


class CacheClearView(AdminView):
    @extend_schema(
        tags=ADMIN_TAGS,
        summary="Clear the default cache (and the metadata provider cache with providers=true)",
        description="Throttle and login-attempt counters are kept.",
        parameters=[CacheClearQuery],
        request=None,
        responses=CacheClearSerializer,
    )
    def post(self, request):
        providers = validated_query(CacheClearQuery, request)["providers"]
        return Response(CacheClearSerializer(cache_clear(providers=providers)).data)
