"""Acquisition models: the shared MAM session and account snapshots (SPEC §3, §8.1)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models


class MamSession(models.Model):
    """The one MAM session row, so every process uses the newest ``mam_id`` cookie.

    MAM may answer with a new ``mam_id`` in ``Set-Cookie``; the client stores it here.  The
    row is also the cross-process pacing lock: ``next_request_at`` (epoch seconds) is the
    earliest moment the next request may go out, reserved under a row lock (SPEC §8.1).
    """

    SINGLETON_ID = 1

    mam_id = models.TextField(blank=True, default="")
    # SHA-256 of the MAM_SESSION_ID the cookie was seeded from: a newly configured value wins.
    configured_hash = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)
    expired = models.BooleanField(default=False)
    last_error = models.TextField(blank=True, default="")
    next_request_at = models.FloatField(default=0.0)

    class Meta:
        verbose_name = "MAM session"

    def __str__(self) -> str:
        return "MAM session (expired)" if self.expired else "MAM session"

    @classmethod
    def load(cls) -> MamSession:
        """The singleton row, created from ``MAM_SESSION_ID`` (and reset when that setting changes)."""
        configured = settings.MAM_SESSION_ID or ""
        configured_hash = hashlib.sha256(configured.encode()).hexdigest() if configured else ""
        session, created = cls.objects.get_or_create(
            pk=cls.SINGLETON_ID, defaults={"mam_id": configured, "configured_hash": configured_hash}
        )
        if not created and configured_hash and session.configured_hash != configured_hash:
            # The operator set a new MAM_SESSION_ID: it replaces the stored (maybe expired) cookie.
            session.mam_id, session.configured_hash = configured, configured_hash
            session.expired, session.last_error = False, ""
            session.save(update_fields=["mam_id", "configured_hash", "expired", "last_error", "updated_at"])
        return session


class MamAccountSnapshot(models.Model):
    """The MAM account as ``/jsonLoad.php?snatch_summary`` reported it at ``taken_at``."""

    taken_at = models.DateTimeField(auto_now_add=True, db_index=True)
    uid = models.BigIntegerField(null=True, blank=True)
    username = models.CharField(max_length=100, blank=True, default="")
    ratio = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    uploaded_bytes = models.BigIntegerField(default=0)
    downloaded_bytes = models.BigIntegerField(default=0)
    seedbonus = models.BigIntegerField(default=0)
    classname = models.CharField(max_length=50, blank=True, default="")
    vip_until = models.DateTimeField(null=True, blank=True)
    unsat_count = models.PositiveIntegerField(default=0)
    unsat_limit = models.PositiveIntegerField(default=0)
    wedges = models.PositiveIntegerField(default=0)
    site_freeleech = models.BooleanField(default=False)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-taken_at", "-pk"]
        get_latest_by = "taken_at"

    def __str__(self) -> str:
        return f"{self.username or 'MAM account'} at {self.taken_at:%Y-%m-%d %H:%M}"
