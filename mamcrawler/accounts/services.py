"""Writes for users and API keys."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from mamcrawler.accounts.choices import Scope
from mamcrawler.accounts.models import ApiKey, User

KEY_PREFIX = "mc_"
PREFIX_LENGTH = 12


def api_key_create(
    *, user: User, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Create a key for ``user`` and return it with its secret, which is never stored.

    The caller must show the secret once; only its SHA-256 hash is kept.
    """
    unknown = set(scopes) - set(Scope.values)
    if not scopes or unknown:
        raise ValueError(f"Scopes must be a non-empty subset of {', '.join(Scope.values)}.")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            user=user,
            name=name,
            prefix=secret[:PREFIX_LENGTH],
            hashed_key=ApiKey.hash_secret(secret),
            scopes=sorted(set(scopes), key=Scope.values.index),
            expires_at=expires_at,
        )
    return key, secret


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revoke ``key`` now; revoking twice keeps the first time."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_touch(*, key: ApiKey, interval_seconds: int) -> None:
    """Record a use of ``key``, writing at most once per ``interval_seconds``."""
    now = timezone.now()
    if key.last_used_at and (now - key.last_used_at).total_seconds() < interval_seconds:
        return
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
