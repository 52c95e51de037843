"""Acquisition models: the shared MAM session, account snapshots and downloads (SPEC §3, §8.1, §8.5)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.validators import RegexValidator
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
    seedbox_updated_at = models.DateTimeField(null=True, blank=True, help_text="Last dynamic seedbox call.")
    seedbox_message = models.CharField(max_length=200, blank=True, default="")

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


class DownloadSource(models.TextChoices):
    MAM = "mam", "MAM"
    MANUAL = "manual", "Manual"
    UPLOAD = "upload", "Upload"


class DownloadStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    DOWNLOADING = "downloading", "Downloading"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    IMPORTING = "importing", "Importing"
    IMPORTED = "imported", "Imported"
    FAILED = "failed", "Failed"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"
    ABANDONED = "abandoned", "Abandoned"


# Nothing more happens to a download in these states, so its info hash may be downloaded again.
FINAL_STATUSES = (DownloadStatus.IMPORTED, DownloadStatus.CANCELLED, DownloadStatus.ABANDONED)

info_hash_validator = RegexValidator(r"^[0-9a-f]{40}$", "A v1 info hash is 40 lowercase hex characters.")


def default_max_retries() -> int:
    return settings.DOWNLOAD_MAX_RETRIES


class Download(models.Model):
    """One torrent on its way into the library; ``status`` moves only through ``downloads.state`` (SPEC §8.5).

    ``transitions`` is the log of every status change as ``{from, to, at, reason}``;
    ``status_changed_at`` is the time of the newest one and guards against lost updates.
    ``claimed_by``/``claimed_at`` mark the worker that took the row (``downloads_claim``).
    """

    title = models.CharField(max_length=500)
    author = models.CharField(max_length=500, blank=True, default="")
    source = models.CharField(max_length=8, choices=DownloadSource.choices, default=DownloadSource.MAM)
    mam_torrent_id = models.BigIntegerField(null=True, blank=True)
    info_hash = models.CharField(max_length=40, validators=[info_hash_validator])
    magnet = models.TextField(blank=True, default="")
    torrent_file = models.BinaryField(null=True, blank=True, help_text="Bytes of the .torrent file.")
    mam_details = models.JSONField(
        default=dict, blank=True, help_text="What MAM's search row said: authors, narrators, series, format."
    )
    book = models.ForeignKey("library.Book", null=True, blank=True, on_delete=models.SET_NULL, related_name="downloads")
    missing_book = models.ForeignKey(
        "library.MissingBook", null=True, blank=True, on_delete=models.SET_NULL, related_name="downloads"
    )
    status = models.CharField(max_length=12, choices=DownloadStatus.choices, default=DownloadStatus.QUEUED)
    client_state = models.CharField(max_length=32, blank=True, default="", help_text="As qBittorrent reports it.")
    progress = models.FloatField(default=0.0)
    save_path = models.TextField(blank=True, default="")
    content_path = models.TextField(blank=True, default="")
    size_bytes = models.BigIntegerField(null=True, blank=True)
    retry_count = models.PositiveIntegerField(default=0)
    max_retries = models.PositiveIntegerField(default=default_max_retries)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    is_free = models.BooleanField(default=False)
    is_vip = models.BooleanField(default=False)
    used_wedge = models.BooleanField(default=False)
    priority = models.PositiveSmallIntegerField(default=2, help_text="1 high … 3 low.")
    transitions = models.JSONField(default=list, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status"], name="download_status_idx"),
            models.Index(fields=["next_retry_at"], name="download_next_retry_idx"),
            models.Index(fields=["created_at"], name="download_created_idx"),
            models.Index(fields=["source"], name="download_source_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["info_hash"],
                condition=~models.Q(status__in=FINAL_STATUSES),
                name="download_active_info_hash_unique",
                violation_error_message="This torrent is already being downloaded.",
            ),
            models.CheckConstraint(
                condition=models.Q(progress__gte=0) & models.Q(progress__lte=1), name="download_progress_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"
