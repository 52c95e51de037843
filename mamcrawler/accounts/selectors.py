"""Reads for users and API keys."""

from __future__ import annotations

import hmac

from django.db.models import QuerySet

from mamcrawler.accounts.models import ApiKey, User
from mamcrawler.accounts.services import PREFIX_LENGTH


def api_key_for_secret(secret: str) -> ApiKey | None:
    """The active key whose secret is ``secret``, compared in constant time, or None."""
    if len(secret) <= PREFIX_LENGTH or len(secret) > 200:
        return None
    hashed = ApiKey.hash_secret(secret)
    # Every key with this prefix (one, but prefixes may collide), without ORDER BY: this runs on every request.
    for key in ApiKey.objects.select_related("user").filter(prefix=secret[:PREFIX_LENGTH]):
        if hmac.compare_digest(key.hashed_key, hashed):
            return key if key.is_active and key.user.is_active else None
    return None


def user_queryset() -> QuerySet[User]:
    """Users for the admin API, by username."""
    return User.objects.order_by("username", "id")


def api_key_queryset() -> QuerySet[ApiKey]:
    """API keys with their owners, newest first."""
    return ApiKey.objects.select_related("user").order_by("-created_at", "-id")
