"""Response shapes of ``/api/v1/system/`` (so the schema documents every field) and its query input."""

from __future__ import annotations

from rest_framework import serializers

from downloads.models import DownloadSource, DownloadStatus, MamAccountSnapshot
from library.api.serializers.metadata import MetadataStatusSerializer
from library.api.serializers.series import CompletionSummarySerializer
from library.choices import BookStatus
from library.models_gaps import GapStatus

MAX_LOG_LINES = 1000


def _counts(name: str, values, what: str) -> type[serializers.Serializer]:
    """A serializer with one integer field per choice value, so each count is documented."""
    fields = {value: serializers.IntegerField(help_text=f"{what} in status {value}.") for value in values}
    return type(name, (serializers.Serializer,), {**fields, "__doc__": f"{what} per status."})


BookStatusCounts = _counts("SystemBookStatusCountsSerializer", BookStatus.values, "Books")
GapStatusCounts = _counts("SystemGapStatusCountsSerializer", GapStatus.values, "Gaps")
DownloadStatusCounts = _counts("SystemDownloadStatusCountsSerializer", DownloadStatus.values, "Downloads")
DownloadSourceCounts = type(
    "SystemDownloadSourceCountsSerializer",
    (serializers.Serializer,),
    {value: serializers.IntegerField(help_text=f"Downloads from {value}.") for value in DownloadSource.values},
)


# --- stats/, library-status/, download-stats/ ------------------------------------------------------


class SystemBookCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = BookStatusCounts()


class SystemGapCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = GapStatusCounts()


class SystemDownloadCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = DownloadStatusCounts()


class SystemStatsSerializer(serializers.Serializer):
    books = SystemBookCountsSerializer()
    series = serializers.IntegerField(help_text="Series in the library.")
    authors = serializers.IntegerField(help_text="Authors in the library.")
    gaps = SystemGapCountsSerializer(help_text="Missing books (gap analysis).")
    downloads = SystemDownloadCountsSerializer()


class SystemLibraryStatusSerializer(serializers.Serializer):
    metadata = MetadataStatusSerializer(help_text="Completeness of the active books (as metadata/status/).")
    series = CompletionSummarySerializer(help_text="Series per completion status.")
    authors = CompletionSummarySerializer(help_text="Authors per completion status.")


class SystemDownloadCostSerializer(serializers.Serializer):
    free = serializers.IntegerField(help_text="Freeleech or VIP torrents: no ratio spent.")
    wedge = serializers.IntegerField(help_text="Made free with a freeleech wedge.")
    paid = serializers.IntegerField(help_text="Counted against the ratio.")


class SystemDownloadStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = DownloadStatusCounts()
    by_source = DownloadSourceCounts()
    total_size_bytes = serializers.IntegerField(help_text="Sum of the known torrent sizes.")
    imported_size_bytes = serializers.IntegerField()
    imported_last_24h = serializers.IntegerField()
    imported_last_7d = serializers.IntegerField()
    failed = serializers.IntegerField()
    abandoned = serializers.IntegerField()
    cost = SystemDownloadCostSerializer()


# --- storage/ ----------------------------------------------------------------------------------------


class SystemFileFormatSerializer(serializers.Serializer):
    files = serializers.IntegerField()
    size_bytes = serializers.IntegerField()


class SystemBookFormatSerializer(serializers.Serializer):
    books = serializers.IntegerField()
    size_bytes = serializers.IntegerField()


class SystemLibrarySizeSerializer(serializers.Serializer):
    files_by_format = serializers.DictField(
        child=SystemFileFormatSerializer(), help_text="Stored book files per format."
    )
    files_total_bytes = serializers.IntegerField()
    books_by_format = serializers.DictField(child=SystemBookFormatSerializer(), help_text="Active books per format.")
    books_total_bytes = serializers.IntegerField()


class SystemDiskSerializer(serializers.Serializer):
    path = serializers.CharField(allow_null=True, help_text="LIBRARY_ROOT.")
    total_bytes = serializers.IntegerField(allow_null=True)
    used_bytes = serializers.IntegerField(allow_null=True)
    free_bytes = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_null=True, help_text="Why the figures are null.")


class SystemDatabaseSizeSerializer(serializers.Serializer):
    vendor = serializers.CharField()
    size_bytes = serializers.IntegerField(allow_null=True)
    wal_bytes = serializers.IntegerField(allow_null=True, help_text="SQLite: the write-ahead log, included above.")
    method = serializers.CharField(allow_null=True, help_text="file, pages (in-memory SQLite) or pg.")


class SystemStorageSerializer(serializers.Serializer):
    library = SystemLibrarySizeSerializer()
    disk = SystemDiskSerializer()
    database = SystemDatabaseSizeSerializer()


# --- configuration/ ----------------------------------------------------------------------------------


class SystemConfigurationSerializer(serializers.Serializer):
    settings = serializers.DictField(child=serializers.JSONField(), help_text="Setting name → effective value.")
    redacted = serializers.ListField(child=serializers.CharField(), help_text="Settings (or nested keys) redacted.")
    database_vendor = serializers.CharField()
    cache_backend = serializers.CharField(allow_null=True)
    counters_backend = serializers.CharField(allow_null=True, help_text="Throttle and login-attempt counters.")
    log_file = serializers.CharField(allow_null=True)


# --- integrations/ -----------------------------------------------------------------------------------


class SystemIntegrationsQuery(serializers.Serializer):
    refresh = serializers.BooleanField(required=False, default=False, help_text="Probe now instead of the cache.")


class SystemIntegrationSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="mam, qbittorrent, audiobookshelf or a metadata provider.")
    kind = serializers.CharField(help_text="tracker, download_client, library_server or metadata_provider.")
    configured = serializers.BooleanField()
    reachable = serializers.BooleanField(allow_null=True, help_text="null when not probed.")
    version = serializers.CharField(allow_null=True, help_text="When the service tells it.")
    latency_ms = serializers.FloatField(allow_null=True)
    last_error = serializers.CharField(allow_null=True, help_text="The probe's error.")
    message = serializers.CharField()
    enabled = serializers.BooleanField(allow_null=True, help_text="Metadata providers: in METADATA_PROVIDERS.")
    circuit = serializers.CharField(allow_null=True, help_text="Metadata providers: closed, open or half_open.")
    recent_error = serializers.CharField(allow_null=True, help_text="Last error recorded in real use.")


class SystemIntegrationsSerializer(serializers.Serializer):
    checked_at = serializers.DateTimeField()
    cached = serializers.BooleanField(help_text="Answered from the cache (30 s); ?refresh=true probes again.")
    timeout_seconds = serializers.FloatField(help_text="INTEGRATION_CHECK_TIMEOUT.")
    integrations = SystemIntegrationSerializer(many=True)


# --- mam/ ----------------------------------------------------------------------------------------------


class SystemMamSnapshotSerializer(serializers.ModelSerializer):
    ratio = serializers.FloatField(allow_null=True)

    class Meta:
        model = MamAccountSnapshot
        fields = [
            "taken_at",
            "uid",
            "username",
            "ratio",
            "uploaded_bytes",
            "downloaded_bytes",
            "seedbonus",
            "classname",
            "vip_until",
            "unsat_count",
            "unsat_limit",
            "wedges",
            "site_freeleech",
        ]
        read_only_fields = fields


class SystemMamTrendPointSerializer(serializers.Serializer):
    taken_at = serializers.DateTimeField()
    ratio = serializers.FloatField(allow_null=True)
    uploaded_bytes = serializers.IntegerField()
    downloaded_bytes = serializers.IntegerField()
    seedbonus = serializers.IntegerField()


class SystemMamSessionSerializer(serializers.Serializer):
    exists = serializers.BooleanField(help_text="A session row was made (the client has run).")
    expired = serializers.BooleanField()
    last_error = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class SystemMamAccountSerializer(serializers.Serializer):
    configured = serializers.BooleanField()
    latest = SystemMamSnapshotSerializer(allow_null=True, help_text="The newest account snapshot.")
    site_freeleech = serializers.BooleanField(allow_null=True)
    trend_days = serializers.IntegerField()
    trend = SystemMamTrendPointSerializer(many=True, help_text="Snapshots of the last days, oldest first (bounded).")
    ratio_change = serializers.FloatField(allow_null=True, help_text="Newest minus oldest ratio of the trend.")
    session = SystemMamSessionSerializer(help_text="Never the cookie.")


# --- logs/ ---------------------------------------------------------------------------------------------


class SystemLogsQuery(serializers.Serializer):
    lines = serializers.IntegerField(required=False, default=100, min_value=1, max_value=MAX_LOG_LINES)


class SystemLogTailSerializer(serializers.Serializer):
    file = serializers.CharField(allow_null=True, help_text="LOG_FILE; null when logging to the console only.")
    size_bytes = serializers.IntegerField(allow_null=True)
    lines = serializers.ListField(child=serializers.CharField(allow_blank=True), help_text="Oldest first.")
    count = serializers.IntegerField()
    truncated = serializers.BooleanField(help_text="Older lines exist that were not returned.")
    reason = serializers.CharField(allow_null=True, help_text="Why there are no lines.")


# --- version/ ------------------------------------------------------------------------------------------


class SystemDatabaseVersionSerializer(serializers.Serializer):
    vendor = serializers.CharField()
    version = serializers.CharField(allow_null=True)


class SystemGitSerializer(serializers.Serializer):
    commit = serializers.CharField(allow_null=True, help_text="Short commit id; null outside a git checkout.")
    branch = serializers.CharField(allow_null=True)


class SystemVersionSerializer(serializers.Serializer):
    app = serializers.CharField()
    python = serializers.CharField()
    django = serializers.CharField()
    djangorestframework = serializers.CharField()
    database = SystemDatabaseVersionSerializer()
    git = SystemGitSerializer()
    environment = serializers.CharField(help_text="DJANGO_ENV.")
