"""/health/, /health/live/, /health/ready/ and /health/deep/ (SPEC §4 Health)."""

from datetime import timedelta

import pytest
from django.db import OperationalError, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.urls import resolve
from django.utils import timezone

from mamcrawler.system.health import checks
from mamcrawler.system.health.serializers import HealthCheckSerializer
from scheduler.models import WorkerHeartbeat
from scheduler.schedules import HEARTBEAT_MINUTES

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/health/", "/health/live/", "/health/ready/", "/health/deep/"]
SECRET = "s3cret-db-password"


@pytest.fixture
def alive_worker():
    return WorkerHeartbeat.objects.create(worker="worker-host", seen_at=timezone.now())


@pytest.fixture
def database_down(monkeypatch):
    """Every cursor on the default connection fails the way an unreachable server does."""

    def broken_cursor(*args, **kwargs):
        raise OperationalError(
            f'connection to server at "db.internal" failed: password authentication failed for user "mc" '
            f"(postgres://mc:{SECRET}@db.internal:5432/mamcrawler)"
        )

    monkeypatch.setattr(connections["default"], "cursor", broken_cursor)


def _assert_shape(body):
    assert set(body) == {"status", "timestamp", "checks"}
    assert body["timestamp"].endswith("Z")
    assert body["checks"]
    declared = set(HealthCheckSerializer().fields)
    for name, check in body["checks"].items():
        assert check["status"] in ("ok", "warning", "error"), name
        assert set(check) <= declared, f"{name}: undocumented {set(check) - declared}"


def test_all_ok_is_healthy(api_client, alive_worker):
    response = api_client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    _assert_shape(body)
    assert body["status"] == "healthy"
    assert set(body["checks"]) == {"database", "cache", "worker"}
    assert {check["status"] for check in body["checks"].values()} == {"ok"}
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert body["checks"]["worker"]["worker"] == "worker-host"


def test_no_heartbeat_yet_is_degraded_not_down(api_client):
    response = api_client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["worker"]["status"] == "warning"
    assert "No heartbeat yet" in body["checks"]["worker"]["message"]


@pytest.mark.parametrize(
    ("age", "expected"), [(2 * 60 * HEARTBEAT_MINUTES - 5, "ok"), (2 * 60 * HEARTBEAT_MINUTES + 5, "warning")]
)
def test_a_heartbeat_counts_for_two_intervals(api_client, age, expected):
    WorkerHeartbeat.objects.create(worker="old", seen_at=timezone.now() - timedelta(seconds=age))

    body = api_client.get("/health/").json()

    worker = body["checks"]["worker"]
    assert worker["status"] == expected
    assert abs(worker["age_seconds"] - age) <= 2
    assert body["status"] == ("healthy" if expected == "ok" else "degraded")


def test_a_broken_cache_degrades(api_client, alive_worker, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("cache server gone")

    monkeypatch.setattr(checks.cache, "set", refuse)

    response = api_client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"] == {
        "status": "error",
        "message": "Cache check failed.",
        "error_type": "ConnectionError",
        "backend": "DatabaseCache",
    }


def test_an_unreachable_database_is_unhealthy_503_without_leaking_the_error(api_client, database_down, caplog):
    response = api_client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    _assert_shape(body)
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"] == {
        "status": "error",
        "message": "Database unreachable.",
        "error_type": "OperationalError",
        "vendor": connections["default"].vendor,
    }
    assert body["checks"]["worker"]["status"] == "error"
    text = response.content.decode()
    for leak in (SECRET, "db.internal", "postgres://", "password"):
        assert leak not in text
    # The throttle counters live in the same database: the health request was let through.
    assert "Throttle counters unavailable" in caplog.text


def test_liveness_does_not_need_the_database(api_client, database_down):
    response = api_client.get("/health/live/")

    assert response.status_code == 200
    body = response.json()
    _assert_shape(body)
    assert body["status"] == "healthy"


def test_ready_when_the_database_answers_and_migrations_are_applied(api_client):
    response = api_client.get("/health/ready/")

    assert response.status_code == 200
    body = response.json()
    _assert_shape(body)
    assert body["status"] == "healthy"
    assert body["checks"]["migrations"] == {"status": "ok", "unapplied": 0}


def test_not_ready_while_a_migration_is_unapplied(api_client):
    connection = connections["default"]
    app_label, name = sorted(MigrationExecutor(connection).loader.graph.leaf_nodes())[-1]
    MigrationRecorder(connection).record_unapplied(app_label, name)  # undone with the test's transaction

    response = api_client.get("/health/ready/")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["migrations"]["status"] == "error"
    assert body["checks"]["migrations"]["unapplied"] == 1
    assert body["checks"]["migrations"]["pending"] == [f"{app_label}.{name}"]


def test_not_ready_while_the_database_is_unreachable(api_client, database_down):
    response = api_client.get("/health/ready/")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"]["status"] == "error"
    assert body["checks"]["migrations"]["status"] == "error"
    assert SECRET not in response.content.decode()


def test_deep_adds_each_integration_as_not_configured_by_default(api_client, alive_worker, settings):
    settings.MAM_SESSION_ID = ""
    settings.QBITTORRENT_URL = ""
    settings.ABS_URL = ""

    response = api_client.get("/health/deep/")

    assert response.status_code == 200
    body = response.json()
    _assert_shape(body)
    assert set(body["checks"]) == {"database", "cache", "worker", "mam", "qbittorrent", "audiobookshelf"}
    for name in ("mam", "qbittorrent", "audiobookshelf"):
        assert body["checks"][name]["state"] == "not_configured"
        assert body["checks"][name]["configured"] is False
    assert "MAM_SESSION_ID" in body["checks"]["mam"]["message"]
    assert body["status"] == "healthy"


def test_deep_reports_configured_integrations_without_their_addresses(api_client, alive_worker, settings):
    settings.MAM_SESSION_ID = "mam-cookie-value"
    settings.QBITTORRENT_URL = "http://admin:qbit-pw@10.0.0.5:8080"
    settings.ABS_URL = "http://abs.internal:13378"
    settings.ABS_API_KEY = "abs-secret-key"

    response = api_client.get("/health/deep/")

    body = response.json()
    for name in ("mam", "qbittorrent", "audiobookshelf"):
        assert body["checks"][name]["state"] == "configured"
    text = response.content.decode()
    for leak in ("mam-cookie-value", "qbit-pw", "10.0.0.5", "abs.internal", "abs-secret-key"):
        assert leak not in text


@pytest.mark.parametrize("path", ENDPOINTS)
def test_no_authentication_is_needed_or_looked_at(api_client, path):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token", HTTP_X_API_KEY="not-a-key")

    response = api_client.get(path)

    assert response.status_code in (200, 503)
    assert response["Cache-Control"].startswith("max-age=0")
    assert "no-store" in response["Cache-Control"]
    assert response["X-RateLimit-Limit"]


def test_the_public_tier_counts_per_client_ip(api_client, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "public": "2/minute"}

    statuses = [api_client.get("/health/live/", REMOTE_ADDR="10.1.1.1").status_code for _ in range(3)]
    other = api_client.get("/health/live/", REMOTE_ADDR="10.2.2.2")

    assert statuses == [200, 200, 429]
    assert other.status_code == 200
    limited = api_client.get("/health/", REMOTE_ADDR="10.1.1.1")
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limit_exceeded"
    assert limited.json()["context"]["retry_after"] >= 1


def test_other_methods_and_unknown_paths_answer_the_error_body(api_client):
    post = api_client.post("/health/")
    missing = api_client.get("/health/nope/")

    assert post.status_code == 405
    assert post.json()["error"] == "method_not_allowed"
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


def test_the_endpoints_are_documented(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    for path in ENDPOINTS:
        operation = schema["paths"][path]["get"]
        for status in ("200", "503"):
            ref = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/Health"
    health = schema["components"]["schemas"]["Health"]
    assert set(health["required"]) == {"status", "timestamp", "checks"}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_each_endpoint_is_in_the_public_tier_without_authentication(path):
    view = resolve(path).func.cls()

    assert view.get_throttle_tier() == "public"
    assert view.get_authenticators() == []


def test_audiobookshelf_without_an_api_key_is_not_configured(api_client, alive_worker, settings):
    settings.ABS_URL = "http://abs.internal:13378"
    settings.ABS_API_KEY = ""

    body = api_client.get("/health/deep/").json()

    assert body["checks"]["audiobookshelf"]["state"] == "not_configured"
