"""Download and Candidate representations (SPEC §4.1) and the inputs of the downloads and acquisition API.

A Download never shows its torrent bytes nor its magnet link (a tracker URL in a magnet may
carry a passkey); a Candidate never shows ``dl``, MAM's personal download token.  Inputs that
name a torrent are parsed here, so a bad one is a 422 that points at its field.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from downloads.acquisition import mam_torrent_id_from_url
from downloads.models import Download, DownloadSource, DownloadStatus
from downloads.torrents import MAX_TORRENT_BYTES, magnet_meta, torrent_meta
from library.api.serializers.gaps import NamedChoiceField
from library.models import MissingBook
from mamcrawler.api.exceptions import AppValidationError

MAX_ID = 2**63 - 1
DOWNLOAD_FIELDS = [
    "id",
    "title",
    "author",
    "source",
    "mam_torrent_id",
    "info_hash",
    "status",
    "client_state",
    "progress",
    "size_bytes",
    "is_free",
    "is_vip",
    "used_wedge",
    "retry_count",
    "max_retries",
    "next_retry_at",
    "last_error",
    "book",
    "missing_book",
    "created_at",
    "updated_at",
]


class TransitionSerializer(serializers.Serializer):
    """One status change: ``from`` is null for the creation."""

    # ``from`` is a Python keyword: the field is put into the class namespace by name.
    locals()["from"] = serializers.CharField(allow_null=True, help_text="The status before; null when created.")
    to = serializers.CharField()
    at = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True)


class DownloadSerializer(serializers.ModelSerializer):
    """A download as lists show it.  Querysets come from ``downloads.selectors``."""

    source = NamedChoiceField(component="DownloadSource", choices=DownloadSource.choices, read_only=True)
    status = NamedChoiceField(component="DownloadStatus", choices=DownloadStatus.choices, read_only=True)
    book = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    missing_book = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Download
        fields = DOWNLOAD_FIELDS
        read_only_fields = fields


class DownloadDetailSerializer(DownloadSerializer):
    """A download with its transition history, oldest first."""

    transitions = serializers.SerializerMethodField()

    class Meta(DownloadSerializer.Meta):
        fields = [*DOWNLOAD_FIELDS, "transitions"]
        read_only_fields = fields

    @extend_schema_field(TransitionSerializer(many=True))
    def get_transitions(self, download: Download) -> list[dict]:
        entries = [
            {
                "from": entry.get("from"),
                "to": entry.get("to"),
                "at": parse_datetime(entry.get("at") or ""),
                "reason": entry.get("reason") or "",
            }
            for entry in download.transitions or []
            if isinstance(entry, dict)
        ]
        return TransitionSerializer(entries, many=True).data


# --- inputs ---------------------------------------------------------------------------------------


def _check(parse, value):
    """``parse(value)``, with the service's validation error as this field's error."""
    try:
        return parse(value)
    except AppValidationError as exc:
        raise serializers.ValidationError(str(exc.detail), code="invalid")


class GapField(serializers.PrimaryKeyRelatedField):
    """A gap (missing book) by id."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", MissingBook.objects.all())
        kwargs.setdefault("help_text", "Id of the gap (missing book) the download fills.")
        super().__init__(**kwargs)


class DownloadCreateInput(serializers.Serializer):
    """POST ``downloads/``: exactly one of ``mam_torrent_id``, ``magnet`` or ``torrent_url``."""

    mam_torrent_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    magnet = serializers.CharField(required=False, max_length=8000, help_text="A `magnet:?xt=urn:btih:…` link.")
    torrent_url = serializers.CharField(
        required=False,
        max_length=2000,
        help_text="A download or torrent page URL on the configured MAM host; other hosts are refused, never fetched.",
    )
    missing_book = GapField(required=False, allow_null=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=500)

    def validate_magnet(self, value: str) -> str:
        _check(magnet_meta, value)
        return value

    def validate_torrent_url(self, value: str) -> int:
        return _check(mam_torrent_id_from_url, value)

    def validate(self, data):
        given = [name for name in ("mam_torrent_id", "magnet", "torrent_url") if data.get(name) is not None]
        if len(given) != 1:
            raise serializers.ValidationError(
                "Give exactly one of mam_torrent_id, magnet or torrent_url.", code="one_source"
            )
        if "torrent_url" in data:
            data["mam_torrent_id"] = data.pop("torrent_url")
        return data


class DownloadUploadInput(serializers.Serializer):
    """POST ``downloads/upload/`` (multipart): a ``.torrent`` file of at most 10 MiB."""

    file = serializers.FileField(help_text="The .torrent file (bencoded, at most 10 MiB).")
    title = serializers.CharField(required=False, allow_blank=True, max_length=500)
    missing_book = GapField(required=False, allow_null=True)

    def validate_file(self, upload) -> bytes:
        if upload.size > MAX_TORRENT_BYTES:
            raise serializers.ValidationError("A torrent file may have at most 10 MiB.", code="max_size")
        data = upload.read(MAX_TORRENT_BYTES + 1)
        _check(torrent_meta, data)
        return data


class DownloadQueueInput(serializers.Serializer):
    """POST ``downloads/queue/``: a gap (its best MAM candidate is queued) or a MAM torrent id."""

    missing_book = GapField(required=False)
    mam_torrent_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)

    def validate(self, data):
        if len(data) != 1:
            raise serializers.ValidationError("Give exactly one of missing_book or mam_torrent_id.", code="one_source")
        return data


class DownloadCancelInput(serializers.Serializer):
    remove_torrent = serializers.BooleanField(required=False, default=False, help_text="Remove it from qBittorrent.")
    delete_files = serializers.BooleanField(
        required=False, default=False, help_text="Also delete its downloaded files (imported copies stay)."
    )


class DownloadMarkFailedInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class GapAcquireInput(serializers.Serializer):
    """POST ``gaps/acquire/``: analyse gaps, then search MAM and queue within the account guard."""

    max_downloads = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=50,
        help_text="Queue at most this many downloads (default ACQUIRE_MAX_DOWNLOADS).",
    )

    def job_params(self) -> dict:
        limit = self.validated_data.get("max_downloads") or min(50, max(1, settings.ACQUIRE_MAX_DOWNLOADS))
        return {"analyze": True, "max_downloads": limit}


# --- outputs --------------------------------------------------------------------------------------


class MamCandidateSeriesSerializer(serializers.Serializer):
    name = serializers.CharField()
    position = serializers.CharField(allow_blank=True)


class MamCandidateSerializer(serializers.Serializer):
    """A ranked MAM torrent for a gap (SPEC §4.1 Candidate), with its cost from the account guard."""

    mam_torrent_id = serializers.IntegerField()
    title = serializers.CharField()
    authors = serializers.ListField(child=serializers.CharField())
    narrators = serializers.ListField(child=serializers.CharField())
    series = MamCandidateSeriesSerializer(many=True)
    position = serializers.CharField(allow_blank=True)
    format = serializers.CharField(allow_blank=True)
    size_bytes = serializers.IntegerField()
    seeders = serializers.IntegerField()
    language = serializers.CharField(allow_blank=True)
    is_free = serializers.BooleanField()
    is_vip = serializers.BooleanField()
    is_bundle = serializers.BooleanField()
    score = serializers.IntegerField()
    reasons = serializers.DictField(child=serializers.IntegerField(), help_text="Factor → points.")
    cost = NamedChoiceField(
        component="CandidateCost", choices=[("free", "Free"), ("ratio", "Ratio"), ("wedge", "Wedge")]
    )
    allowed = serializers.BooleanField(help_text="The account guard allows it now.")
    hold_reason = serializers.CharField(allow_blank=True, help_text="Why it is not allowed now.")
    rejected = serializers.CharField(allow_blank=True, help_text="Why it is never taken for this gap (or blank).")


class DownloadStatusCountsSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    submitting = serializers.IntegerField()
    downloading = serializers.IntegerField()
    paused = serializers.IntegerField()
    completed = serializers.IntegerField()
    importing = serializers.IntegerField()
    imported = serializers.IntegerField()
    failed = serializers.IntegerField()
    held = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    abandoned = serializers.IntegerField()


class DownloadSourceCountsSerializer(serializers.Serializer):
    mam = serializers.IntegerField()
    manual = serializers.IntegerField()
    upload = serializers.IntegerField()


class DownloadCostCountsSerializer(serializers.Serializer):
    free = serializers.IntegerField(help_text="Freeleech, personal freeleech or VIP: no ratio spent.")
    wedge = serializers.IntegerField(help_text="Made free with a wedge.")
    paid = serializers.IntegerField(help_text="Counted against the ratio.")


class DownloadStatsSerializer(serializers.Serializer):
    """``downloads/stats/``."""

    total = serializers.IntegerField()
    active = serializers.IntegerField(help_text="Neither imported, cancelled nor abandoned.")
    total_size_bytes = serializers.IntegerField()
    active_size_bytes = serializers.IntegerField()
    imported_last_24h = serializers.IntegerField()
    imported_last_7d = serializers.IntegerField()
    by_status = DownloadStatusCountsSerializer()
    by_source = DownloadSourceCountsSerializer()
    by_cost = DownloadCostCountsSerializer(help_text="Tracker downloads (magnets added by hand are left out).")
