"""Authentication classes: API keys (``X-Api-Key``) and JWT bearer tokens."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication as _JWTAuthentication

from mamcrawler.accounts.selectors import api_key_for_secret
from mamcrawler.accounts.services import api_key_touch


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``X-Api-Key: <secret>``; ``request.auth`` is the ApiKey so scopes can cap the role."""

    header = "HTTP_X_API_KEY"

    def authenticate(self, request):
        secret = request.META.get(self.header)
        if not secret:
            return None
        key = api_key_for_secret(secret.strip())
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API key.")
        api_key_touch(key=key, interval_seconds=settings.API_KEY_LAST_USED_INTERVAL)
        return key.user, key

    def authenticate_header(self, request):
        return "X-Api-Key"


class JWTAuthentication(_JWTAuthentication):
    """simplejwt's bearer authentication (subclassed so the schema names one scheme)."""


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "mamcrawler.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Api-Key"}


class JWTScheme(OpenApiAuthenticationExtension):
    target_class = "mamcrawler.api.authentication.JWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
