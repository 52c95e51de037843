"""Health endpoints: open to everyone, counted per client IP in the ``public`` tier."""

from __future__ import annotations

import logging

from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from mamcrawler.api.throttling import TieredThrottleMixin
from mamcrawler.system.health import checks
from mamcrawler.system.health.serializers import HealthSerializer

logger = logging.getLogger("mamcrawler.system.health")


def _documented(summary: str, description: str):
    return extend_schema_view(
        get=extend_schema(
            summary=summary,
            description=description,
            tags=["health"],
            auth=[],
            responses={
                200: HealthSerializer,
                503: OpenApiResponse(HealthSerializer, description="Unhealthy or not ready; the same shape."),
            },
        )
    )


class HealthBaseView(TieredThrottleMixin, APIView):
    """No authentication; answers a ``HealthReport``."""

    throttle_tier = "public"
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def report(self) -> checks.HealthReport:
        raise NotImplementedError

    def check_throttles(self, request):
        # Without Redis the throttle counters live in the database; when it is down the
        # health endpoint must still answer (503) rather than fail on its own throttle.
        try:
            super().check_throttles(request)
        except exceptions.Throttled:
            raise
        except Exception:  # noqa: BLE001
            logger.warning("Throttle counters unavailable; health request let through.", exc_info=True)

    def get(self, request):
        report = self.report()
        body = {"status": report.status, "timestamp": report.timestamp, "checks": report.checks}
        response = Response(body, status=report.http_status)
        add_never_cache_headers(response)
        return response


@_documented(
    "Overall health",
    "Database (SELECT 1), cache (write and read a key) and worker heartbeat. `degraded` (200) when "
    "the cache or the worker is not ok; `unhealthy` (503) when the database is unreachable.",
)
class HealthView(HealthBaseView):
    def report(self):
        return checks.health_report()


@_documented("Liveness", "The process is up; touches neither the database nor the cache. Always 200.")
class LiveView(HealthBaseView):
    def report(self):
        return checks.liveness_report()


@_documented("Readiness", "The database answers and every migration is applied; 503 otherwise.")
class ReadyView(HealthBaseView):
    def report(self):
        return checks.readiness_report()


@_documented(
    "Deep health",
    "The checks of /health/ plus every integration (MAM, qBittorrent, Audiobookshelf): configured or not_configured.",
)
class DeepView(HealthBaseView):
    def report(self):
        return checks.health_report(deep=True)
