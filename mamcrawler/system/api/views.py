"""``/api/v1/system/``: figures, storage, configuration, integrations, the MAM account, logs, versions.

Viewers read everything here except ``configuration/`` and ``logs/`` (admins).  All are in
the ``read`` tier but ``logs/`` (``admin``, SPEC §6.3).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from mamcrawler.accounts.choices import Role
from mamcrawler.api.filters import validated_query
from mamcrawler.api.throttling import TieredThrottleMixin
from mamcrawler.system import configuration, integrations, logs, selectors
from mamcrawler.system.api import serializers as s

TAGS = ["system"]


class SystemView(TieredThrottleMixin, APIView):
    """A single system resource: viewers read; a class names a stricter role or another tier."""


class StatsView(SystemView):
    @extend_schema(
        tags=TAGS, summary="Books, series, authors, gaps and downloads counted", responses=s.SystemStatsSerializer
    )
    def get(self, request):
        return Response(s.SystemStatsSerializer(selectors.system_stats()).data)


class LibraryStatusView(SystemView):
    @extend_schema(
        tags=TAGS,
        summary="Metadata completeness of the books; completion of series and authors",
        responses=s.SystemLibraryStatusSerializer,
    )
    def get(self, request):
        return Response(s.SystemLibraryStatusSerializer(selectors.library_status()).data)


class DownloadStatsView(SystemView):
    @extend_schema(
        tags=TAGS,
        summary="Downloads by status and source, sizes, recent imports, failures, free or paid",
        responses=s.SystemDownloadStatsSerializer,
    )
    def get(self, request):
        return Response(s.SystemDownloadStatsSerializer(selectors.download_stats()).data)


class StorageView(SystemView):
    @extend_schema(
        tags=TAGS,
        summary="Library bytes by format, free space of LIBRARY_ROOT, database size",
        responses=s.SystemStorageSerializer,
    )
    def get(self, request):
        return Response(s.SystemStorageSerializer(selectors.storage_usage()).data)


class ConfigurationView(SystemView):
    required_role = Role.ADMIN

    @extend_schema(
        tags=TAGS,
        summary="Effective settings, every secret redacted (admin)",
        responses=s.SystemConfigurationSerializer,
    )
    def get(self, request):
        return Response(s.SystemConfigurationSerializer(configuration.effective_configuration()).data)


class IntegrationsView(SystemView):
    @extend_schema(
        tags=TAGS,
        summary="MAM, qBittorrent, Audiobookshelf and each metadata provider: configured, reachable, version",
        description="Probes run concurrently, each with INTEGRATION_CHECK_TIMEOUT seconds; the answer is cached "
        "for 30 seconds unless `refresh=true`. Unconfigured integrations are not contacted.",
        parameters=[s.SystemIntegrationsQuery],
        responses=s.SystemIntegrationsSerializer,
    )
    def get(self, request):
        refresh = validated_query(s.SystemIntegrationsQuery, request)["refresh"]
        return Response(s.SystemIntegrationsSerializer(integrations.integrations_status(refresh=refresh)).data)


class MamView(SystemView):
    @extend_schema(
        tags=TAGS,
        summary="The MAM account: newest snapshot, a week's ratio trend, site freeleech, session state",
        responses=s.SystemMamAccountSerializer,
    )
    def get(self, request):
        return Response(s.SystemMamAccountSerializer(selectors.mam_account()).data)


class LogsView(SystemView):
    required_role = Role.ADMIN
    throttle_tier = "admin"

    @extend_schema(
        tags=TAGS,
        summary="The last lines of the application log (admin)",
        parameters=[s.SystemLogsQuery],
        responses=s.SystemLogTailSerializer,
    )
    def get(self, request):
        lines = validated_query(s.SystemLogsQuery, request)["lines"]
        return Response(s.SystemLogTailSerializer(logs.log_tail(lines=lines)).data)


class VersionView(SystemView):
    @extend_schema(
        tags=TAGS,
        summary="Versions of the app, Python, Django, DRF and the database; git commit",
        responses=s.SystemVersionSerializer,
    )
    def get(self, request):
        return Response(s.SystemVersionSerializer(selectors.version_info()).data)
