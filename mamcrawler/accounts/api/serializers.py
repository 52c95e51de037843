"""Serializers of the auth endpoints: JWT pairs, verification, logout and ``me``."""

from __future__ import annotations

from datetime import UTC, datetime

from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken

from mamcrawler.accounts.choices import Role, Scope
from mamcrawler.accounts.models import ApiKey, User
from mamcrawler.api.authentication import JWTAuthentication
from mamcrawler.api.permissions import effective_role


class TokenObtainInputSerializer(serializers.Serializer):
    """Documents ``token/``; validation is simplejwt's ``TokenObtainPairSerializer``."""

    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Access JWT (15 minutes); send as `Authorization: Bearer <access>`.")
    refresh = serializers.CharField(help_text="Refresh JWT (7 days); exchange once at `token/refresh/`.")


class TokenRefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(help_text="A refresh JWT; it is blacklisted once used.")


class TokenVerifySerializer(serializers.Serializer):
    """Checks signature, expiry and the blacklist of any JWT (access or refresh)."""

    token = serializers.CharField(write_only=True)

    def validate(self, attrs):
        # TokenError (not ValidationError) so the view answers 401 invalid_token/token_expired.
        token = UntypedToken(attrs["token"])
        if BlacklistedToken.objects.filter(token__jti=token.get(jwt_settings.JTI_CLAIM)).exists():
            raise TokenError("Token is blacklisted")
        return {
            "valid": True,
            "token_type": token.get(jwt_settings.TOKEN_TYPE_CLAIM),
            "user_id": token.get(jwt_settings.USER_ID_CLAIM),
            "expires_at": datetime.fromtimestamp(token["exp"], tz=UTC),
        }


class TokenVerifyResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    token_type = serializers.ChoiceField(choices=["access", "refresh"])
    user_id = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


class LogoutSerializer(serializers.Serializer):
    """Blacklists a refresh token of the requesting user."""

    refresh = serializers.CharField(write_only=True, help_text="The refresh JWT to revoke.")

    def validate(self, attrs):
        token = RefreshToken(attrs["refresh"])  # raises TokenError when invalid, expired or blacklisted
        user = self.context["request"].user
        if str(token.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
            raise exceptions.PermissionDenied("This refresh token belongs to another user.")
        return {"token": token}

    def save(self, **kwargs):
        self.validated_data["token"].blacklist()


class AuthInfoSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=["jwt", "api_key", "session"])
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices),
        allow_null=True,
        help_text="The API key's scopes; null for other methods.",
    )


class MeSerializer(serializers.ModelSerializer):
    """The requesting user; ``role`` is the effective one (an API key's scopes cap it)."""

    role = serializers.SerializerMethodField()
    auth = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "email", "role", "is_active", "last_login", "date_joined", "auth"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, user) -> str | None:
        return effective_role(self.context["request"])

    @staticmethod
    def auth_method(request) -> str:
        if isinstance(request.auth, ApiKey):
            return "api_key"
        if isinstance(request.successful_authenticator, JWTAuthentication):
            return "jwt"
        return "session"

    @extend_schema_field(AuthInfoSerializer)
    def get_auth(self, user) -> dict:
        request = self.context["request"]
        scopes = list(request.auth.scopes) if isinstance(request.auth, ApiKey) else None
        return AuthInfoSerializer({"method": self.auth_method(request), "scopes": scopes}).data
