"""Writes for users and API keys."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import models, transaction
from django.utils import timezone

from mamcrawler.accounts.choices import Role, Scope
from mamcrawler.accounts.models import ApiKey, User
from mamcrawler.api.exceptions import Conflict

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


USER_FIELDS = ("username", "email", "role", "is_active")


def _refuse_losing_the_last_admin(*, user: User, remains_admin: bool) -> None:
    """Raise ``Conflict`` when ``user`` is the last active admin and would stop being one."""
    if remains_admin or not user.is_active_admin:
        return
    others = (
        User.objects.select_for_update()
        .filter(is_active=True)
        .filter(models.Q(role=Role.ADMIN) | models.Q(is_superuser=True))
        .exclude(pk=user.pk)
    )
    if not list(others.values_list("pk", flat=True)[:1]):
        raise Conflict(
            f"User {user.username} is the last active admin.",
            message="The last active admin cannot be deleted, demoted or deactivated.",
            context={"user_id": user.pk},
        )


def user_create(
    *, username: str, password: str | None, email: str = "", role: str = Role.VIEWER, is_active: bool = True
) -> User:
    """Create a user with ``role``; the caller has validated ``password`` (None: no usable password).

    Side effects: one User row (the password stored hashed).
    """
    user = User(username=username, email=email, role=role, is_active=is_active)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    return user


def user_update(*, user: User, password: str | None = None, **fields) -> User:
    """Change ``fields`` (of ``USER_FIELDS``) and optionally the password of ``user``.

    Raises ``Conflict`` when it would leave no active admin (role change or deactivation).
    Side effects: the User row updated in a transaction that locks the other admins.
    """
    unknown = set(fields) - set(USER_FIELDS)
    if unknown:
        raise ValueError(f"Cannot change {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        after = User(
            role=fields.get("role", user.role),
            is_active=fields.get("is_active", user.is_active),
            is_superuser=user.is_superuser,
        )
        _refuse_losing_the_last_admin(user=user, remains_admin=after.is_active_admin)
        for name, value in fields.items():
            setattr(user, name, value)
        if password is not None:
            user.set_password(password)
        user.save()
    return user


def user_delete(*, user: User) -> None:
    """Delete ``user`` (their API keys go with them; audit entries keep no link).

    Raises ``Conflict`` for the last active admin.
    """
    with transaction.atomic():
        _refuse_losing_the_last_admin(user=user, remains_admin=False)
        user.delete()


def user_set_password(*, user: User, password: str) -> User:
    """Set ``user``'s password (validated by the caller); stored hashed only."""
    user.set_password(password)
    user.save(update_fields=["password"])
    return user
