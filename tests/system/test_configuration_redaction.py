"""/api/v1/system/configuration/: the effective settings, with no secret in the answer."""

from __future__ import annotations

import importlib
import os

import pytest

from mamcrawler.system import configuration
from mamcrawler.system.configuration import REDACTED, is_secret_name, redact_url

pytestmark = pytest.mark.django_db

URL = "/api/v1/system/configuration/"
DB_PASSWORD = "pg-Pa55word-7781"
REDIS_PASSWORD = "redis-Pa55word-9924"
QBIT_URL_PASSWORD = "qbit-url-Pa55-3310"
QUERY_KEY = "query-ApiKey-6612"


def _project_secret_names() -> list[str]:
    module = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
    return sorted(name for name in vars(module) if name.isupper() and is_secret_name(name))


@pytest.fixture
def secrets(settings, monkeypatch):
    """Every secret-named setting of the project, plus passwords inside URLs and nested settings, set to
    a known value; returns the values that must never be answered."""
    values = {}
    for name in _project_secret_names():
        if isinstance(getattr(settings, name), (bool, int, float)):
            continue  # SESSION_COOKIE_AGE-like tuning values are not secrets
        values[name] = f"known-{name.lower()}-value-0042"
        setattr(settings, name, values[name])
    settings.DATABASE_URL = f"postgres://mamcrawler:{DB_PASSWORD}@db.internal:5432/mamcrawler"
    settings.REDIS_URL = f"redis://:{REDIS_PASSWORD}@cache.internal:6379/0"
    settings.QBITTORRENT_URL = f"http://admin:{QBIT_URL_PASSWORD}@10.0.0.5:8080"
    settings.GOOGLE_BOOKS_URL = f"https://www.googleapis.com/books?key={QUERY_KEY}&country=GB"
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "jwt-signing-key-5521"}
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": settings.REDIS_URL}
    # Replacing DATABASES would reconnect; the password of the live SQLite entry is never used.
    monkeypatch.setitem(settings.DATABASES["default"], "PASSWORD", "nested-db-password-8812")
    caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
    caches["spare"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL}
    settings.CACHES = caches
    settings.MAM_SESSION_ID = "mam-cookie-session-0077"
    return [
        *values.values(),
        DB_PASSWORD,
        REDIS_PASSWORD,
        QBIT_URL_PASSWORD,
        QUERY_KEY,
        "jwt-signing-key-5521",
        "nested-db-password-8812",
        "mam-cookie-session-0077",
    ]


def test_the_known_secret_settings_are_all_found():
    names = set(_project_secret_names())

    assert {"SECRET_KEY", "MAM_SESSION_ID", "ABS_API_KEY", "QBITTORRENT_PASSWORD", "HARDCOVER_TOKEN"} <= names
    assert {"GOOGLE_BOOKS_API_KEY", "MAMCRAWLER_ADMIN_PASSWORD"} <= names


def test_no_secret_value_appears_anywhere_in_the_answer(admin_client, secrets):
    response = admin_client.get(URL)

    assert response.status_code == 200
    text = response.content.decode()
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == []


def test_secrets_are_shown_as_redacted_not_left_out(admin_client, secrets):
    body = admin_client.get(URL).json()

    shown = body["settings"]
    assert shown["SECRET_KEY"] == REDACTED
    assert shown["ABS_API_KEY"] == REDACTED
    assert shown["QBITTORRENT_PASSWORD"] == REDACTED
    assert shown["MAM_SESSION_ID"] == REDACTED
    assert shown["DATABASE_URL"] == "postgres://mamcrawler:***@db.internal:5432/mamcrawler"
    assert shown["REDIS_URL"] == "redis://:***@cache.internal:6379/0"
    assert shown["QBITTORRENT_URL"] == "http://admin:***@10.0.0.5:8080"
    assert shown["GOOGLE_BOOKS_URL"] == "https://www.googleapis.com/books?key=***&country=GB"
    assert shown["SIMPLE_JWT"]["SIGNING_KEY"] == REDACTED
    assert shown["DATABASES"]["default"]["PASSWORD"] == REDACTED
    assert shown["Q_CLUSTER"]["redis"] == "redis://:***@cache.internal:6379/0"
    assert {"SECRET_KEY", "DATABASE_URL", "SIMPLE_JWT.SIGNING_KEY", "DATABASES.default.PASSWORD"} <= set(
        body["redacted"]
    )


def test_the_answer_keeps_what_is_not_secret(admin_client, settings, tmp_path):
    settings.LIBRARY_ROOT = str(tmp_path)
    settings.MAM_BASE_URL = "https://www.myanonamouse.net"
    settings.ABS_API_KEY = ""

    body = admin_client.get(URL).json()

    shown = body["settings"]
    assert shown["LIBRARY_ROOT"] == str(tmp_path)
    assert shown["MAM_BASE_URL"] == "https://www.myanonamouse.net"
    assert shown["THROTTLE_RATES"] == settings.THROTTLE_RATES
    assert shown["INTEGRATION_CHECK_TIMEOUT"] == settings.INTEGRATION_CHECK_TIMEOUT
    assert shown["API_KEY_LAST_USED_INTERVAL"] == settings.API_KEY_LAST_USED_INTERVAL
    assert shown["ABS_API_KEY"] == ""  # blank: nothing to hide, and it says "not configured"
    # A lifetime is a number: it tunes, it does not authenticate.
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    assert shown["SIMPLE_JWT"]["ACCESS_TOKEN_LIFETIME"] == lifetime
    assert "INSTALLED_APPS" not in shown
    assert body["database_vendor"] in ("sqlite", "postgresql")
    assert body["cache_backend"] == settings.CACHES["default"]["BACKEND"]


def test_a_sqlite_url_is_shown_unchanged(admin_client, settings):
    settings.DATABASE_URL = "sqlite:////var/lib/mamcrawler/db.sqlite3"

    assert admin_client.get(URL).json()["settings"]["DATABASE_URL"] == "sqlite:////var/lib/mamcrawler/db.sqlite3"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:pw@h/db", "postgres://u:***@h/db"),
        ("redis://:pw@h:6379/1", "redis://:***@h:6379/1"),
        ("https://token@api.example/v1", "https://***@api.example/v1"),
        ("https://h/x?apikey=abc&page=2", "https://h/x?apikey=***&page=2"),
        ("https://h/x?page=2", "https://h/x?page=2"),
        ("sqlite:///relative.db", "sqlite:///relative.db"),
    ],
)
def test_redact_url(url, expected):
    assert redact_url(url) == expected


def test_a_secret_repeated_under_another_name_is_hidden_there_too(settings):
    settings.MAMCRAWLER_ADMIN_PASSWORD = "reused-secret-4410"
    settings.MAMCRAWLER_ADMIN_USERNAME = "user reused-secret-4410"

    shown = configuration.effective_configuration()["settings"]

    assert shown["MAMCRAWLER_ADMIN_USERNAME"] == f"user {REDACTED}"
