"""People and machine credentials."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from mamcrawler.accounts.choices import ROLE_RANK, SCOPE_ROLE, Role


class User(AbstractUser):
    """A person using MAMcrawler; ``role`` decides what they may do (superusers are admins)."""

    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER, db_index=True)

    @property
    def effective_role(self) -> str:
        return Role.ADMIN if self.is_superuser else self.role

    @property
    def is_active_admin(self) -> bool:
        """Active and acting as an admin: the admin API refuses to remove the last one."""
        return bool(self.is_active and self.effective_role == Role.ADMIN)

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[self.effective_role] >= ROLE_RANK[role]


class ApiKey(models.Model):
    """A long-lived credential for scripts: only the SHA-256 of the secret is stored."""

    name = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=16, unique=True, help_text="First characters of the key, safe to show.")
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list, help_text="Any of read, write, admin.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def role_cap(self) -> str:
        """The highest role the scopes allow."""
        roles = [SCOPE_ROLE[scope] for scope in self.scopes if scope in SCOPE_ROLE]
        return max(roles, key=ROLE_RANK.__getitem__, default=None)
