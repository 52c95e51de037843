"""Health checks (SPEC §4 Health): database, cache, worker heartbeat, migrations, integrations.

Each check answers a dict with ``status`` ``ok``, ``warning`` or ``error`` plus details, and
never raises: a probe that fails is itself the answer.  Error details name the exception
type only — a database driver's message can carry host names, users or a DSN, and these
endpoints are public; the full error goes to the log.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from mamcrawler.system import integrations
from scheduler.models import WorkerHeartbeat
from scheduler.schedules import HEARTBEAT_MINUTES

logger = logging.getLogger("mamcrawler.system.health")

OK, WARNING, ERROR = "ok", "warning", "error"
HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"


@dataclass(frozen=True)
class HealthReport:
    """What a health endpoint answers; ``http_status`` is 503 only when unhealthy."""

    status: str
    checks: dict[str, dict]
    timestamp: str

    @property
    def http_status(self) -> int:
        return 503 if self.status == UNHEALTHY else 200


def _now_text() -> str:
    return timezone.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _failure(what: str, exc: Exception, **details) -> dict:
    logger.warning("Health check %s failed: %s: %s", what, type(exc).__name__, exc)
    return {"status": ERROR, "message": f"{what} check failed.", "error_type": type(exc).__name__, **details}


def database_check() -> dict:
    """``SELECT 1`` on the default database, with its round-trip time."""
    connection = connections[DEFAULT_DB_ALIAS]
    started = time.perf_counter()
    try:
        try:
            _select_one(connection)
        except Exception:
            # A persistent connection may have died with a database restart: reconnect once.
            if connection.in_atomic_block:
                raise
            connection.close()
            started = time.perf_counter()
            _select_one(connection)
    except Exception as exc:  # noqa: BLE001 - the failure is the answer
        return _failure("Database", exc, message="Database unreachable.", vendor=connection.vendor)
    return {"status": OK, "vendor": connection.vendor, "latency_ms": _elapsed_ms(started)}


def _select_one(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def cache_check() -> dict:
    """Write, read back and delete a unique key in the default cache."""
    key, value = f"health:probe:{uuid.uuid4().hex}", uuid.uuid4().hex
    started = time.perf_counter()
    try:
        cache.set(key, value, timeout=30)
        read = cache.get(key)
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001
        return _failure("Cache", exc, backend=_cache_backend())
    details = {"backend": _cache_backend(), "latency_ms": _elapsed_ms(started)}
    if read != value:
        return {"status": ERROR, "message": "The cache did not return the value just written.", **details}
    return {"status": OK, **details}


def _cache_backend() -> str:
    return settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]


def worker_check() -> dict:
    """The newest worker heartbeat: ok while younger than two heartbeat intervals."""
    limit = timedelta(minutes=2 * HEARTBEAT_MINUTES)
    try:
        beat = WorkerHeartbeat.objects.order_by("-seen_at").first()
    except Exception as exc:  # noqa: BLE001
        return _failure("Worker", exc)
    if beat is None:
        return {"status": WARNING, "message": "No heartbeat yet: is the worker (manage.py qcluster) running?"}
    age = max(0, int((timezone.now() - beat.seen_at).total_seconds()))
    details = {
        "worker": beat.worker,
        "last_seen": beat.seen_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "age_seconds": age,
        "max_age_seconds": int(limit.total_seconds()),
    }
    if age >= limit.total_seconds():
        return {"status": WARNING, "message": f"Last heartbeat {age} seconds ago.", **details}
    return {"status": OK, **details}


def migrations_check() -> dict:
    """Whether every migration on disk is applied to the default database."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # noqa: BLE001
        return _failure("Migrations", exc)
    pending = [f"{migration.app_label}.{migration.name}" for migration, backwards in plan if not backwards]
    if pending:
        return {
            "status": ERROR,
            "message": f"{len(pending)} migration(s) not applied.",
            "unapplied": len(pending),
            "pending": pending[:20],
        }
    return {"status": OK, "unapplied": 0}


def integration_checks() -> dict[str, dict]:
    """Each integration: configured or not, from settings alone (no network calls).

    Reachability is probed by ``/api/v1/system/integrations/`` (authenticated); hosts are
    deliberately left out here: these endpoints are public.
    """
    checks = {}
    for name in integrations.REQUIRED_SETTINGS:
        missing = integrations.missing_settings(name)
        if missing:
            checks[name] = {
                "status": OK,
                "state": "not_configured",
                "configured": False,
                "message": f"Not configured: set {', '.join(missing)}.",
            }
        else:
            checks[name] = {
                "status": OK,
                "state": "configured",
                "configured": True,
                "message": "Configured; reachability is probed by /api/v1/system/integrations/.",
            }
    return checks


def _overall(checks: dict[str, dict], *, critical: tuple[str, ...]) -> str:
    if any(checks[name]["status"] == ERROR for name in critical if name in checks):
        return UNHEALTHY
    if any(check["status"] != OK for check in checks.values()):
        return DEGRADED
    return HEALTHY


def health_report(*, deep: bool = False) -> HealthReport:
    """Database, cache and worker (``deep`` adds the integrations).

    Unhealthy only when the database is unreachable; a stale worker or a broken cache degrades.
    """
    database = database_check()
    checks = {"database": database, "cache": cache_check()}
    if database["status"] == OK:
        checks["worker"] = worker_check()
    else:
        checks["worker"] = {"status": ERROR, "message": "Unknown: the database is unreachable."}
    if deep:
        checks.update(integration_checks())
    return HealthReport(status=_overall(checks, critical=("database",)), checks=checks, timestamp=_now_text())


def readiness_report() -> HealthReport:
    """Ready to serve: the database answers and every migration is applied."""
    database = database_check()
    if database["status"] == OK:
        migrations = migrations_check()
    else:
        migrations = {"status": ERROR, "message": "Unknown: the database is unreachable."}
    checks = {"database": database, "migrations": migrations}
    return HealthReport(
        status=_overall(checks, critical=("database", "migrations")), checks=checks, timestamp=_now_text()
    )


def liveness_report() -> HealthReport:
    """The process answers; touches nothing else."""
    return HealthReport(status=HEALTHY, checks={"process": {"status": OK, "message": "Up."}}, timestamp=_now_text())
