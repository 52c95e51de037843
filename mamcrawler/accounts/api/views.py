"""Auth endpoints: JWT obtain/refresh/verify, logout (blacklist) and ``me``.

Their successful POSTs are audited like every write; tokens and passwords are stored as ``***``.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from mamcrawler.accounts.api.serializers import (
    LogoutSerializer,
    MeSerializer,
    TokenObtainInputSerializer,
    TokenPairSerializer,
    TokenRefreshInputSerializer,
    TokenVerifyResultSerializer,
    TokenVerifySerializer,
)
from mamcrawler.accounts.choices import Role
from mamcrawler.api.exceptions import RateLimited
from mamcrawler.api.login_guard import login_attempt_blocked
from mamcrawler.api.permissions import RolePermission
from mamcrawler.api.throttling import TieredThrottleMixin
from mamcrawler.audit.api.mixins import AuditedViewMixin

TAGS = ["auth"]


class TokenObtainView(AuditedViewMixin, TieredThrottleMixin, jwt_views.TokenObtainPairView):
    """Open: username + password → access and refresh JWTs (guarded against password guessing)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_tier = "public"

    @extend_schema(
        tags=TAGS,
        summary="Obtain a JWT pair",
        request=TokenObtainInputSerializer,
        responses={200: TokenPairSerializer, 401: OpenApiResponse(description="Wrong credentials.")},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        username = request.data.get("username") if isinstance(request.data, dict) else None
        if login_attempt_blocked(request._request, username=str(username or "")):
            raise RateLimited("Too many login attempts; wait a minute.", retry_after=60)
        return super().post(request, *args, **kwargs)


class TokenRefreshView(AuditedViewMixin, TieredThrottleMixin, jwt_views.TokenRefreshView):
    """Open: a refresh JWT → a new pair; the old refresh token is blacklisted (rotation)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_tier = "public"

    @extend_schema(
        tags=TAGS,
        summary="Rotate a refresh token",
        request=TokenRefreshInputSerializer,
        responses={200: TokenPairSerializer, 401: OpenApiResponse(description="Invalid, expired or used token.")},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ObjectDoesNotExist:
            # The token names a user that has since been deleted.
            raise InvalidToken("Token user not found")


class TokenVerifyView(AuditedViewMixin, TieredThrottleMixin, jwt_views.TokenVerifyView):
    """Is this JWT valid (signature, expiry, blacklist)?"""

    authentication_classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    permission_classes = [RolePermission]
    required_role = Role.VIEWER
    serializer_class = TokenVerifySerializer

    @extend_schema(
        tags=TAGS,
        summary="Verify a JWT",
        request=TokenVerifySerializer,
        responses={200: TokenVerifyResultSerializer, 401: OpenApiResponse(description="Invalid or expired token.")},
    )
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        return Response(TokenVerifyResultSerializer(response.data).data)


class LogoutView(AuditedViewMixin, TieredThrottleMixin, generics.GenericAPIView):
    """Blacklist the caller's refresh token so it can no longer be rotated."""

    serializer_class = LogoutSerializer
    permission_classes = [RolePermission]
    required_role = Role.VIEWER

    @extend_schema(
        tags=TAGS,
        summary="Log out (blacklist a refresh token)",
        responses={204: None, 401: OpenApiResponse(description="Invalid, expired or used token.")},
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as error:
            raise InvalidToken(error.args[0]) from error
        serializer.save()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(TieredThrottleMixin, APIView):
    """Who am I, with which role, authenticated how."""

    permission_classes = [RolePermission]
    required_role = Role.VIEWER

    @extend_schema(tags=TAGS, summary="The requesting user", responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user, context={"request": request}).data)
