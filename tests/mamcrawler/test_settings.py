"""Settings come from the environment: production refuses to start without a secret key."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load_settings(env: dict) -> subprocess.CompletedProcess:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'debug': s.DEBUG, 'engine': s.DATABASES['default']['ENGINE'], "
        "'cache': s.CACHES['default']['BACKEND'], 'name': str(s.DATABASES['default']['NAME']), "
        "'opts': s.DATABASES['default'].get('OPTIONS', {}), 'counters': s.CACHES['counters'], "
        "'jwt_key_is_secret_key': s.SIMPLE_JWT['SIGNING_KEY'] == s.SECRET_KEY != '', "
        "'library_root': s.LIBRARY_ROOT}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ENV", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "mamcrawler.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = _load_settings({"DJANGO_ENV": "production", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_turns_debug_off(tmp_path):
    result = _load_settings({"DJANGO_ENV": "production", "SECRET_KEY": "x" * 60, "DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert '"debug": false' in result.stdout


def test_sqlite_under_data_dir_with_wal_and_busy_timeout_by_default(tmp_path):
    result = _load_settings({"DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "mamcrawler.sqlite3") in result.stdout
    assert "journal_mode=WAL" in result.stdout
    assert '"timeout": 20' in result.stdout
    assert "DatabaseCache" in result.stdout
    # Throttle counters in a SQLite file of their own, next to the library database.
    assert json.loads(result.stdout)["counters"]["LOCATION"] == str(tmp_path / "counters.sqlite3")


def test_without_redis_on_postgresql_the_counters_stay_in_the_database(tmp_path):
    result = _load_settings({"DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://u:p@db.example:5432/mam"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["counters"] == {
        "BACKEND": "mamcrawler.system.cache.CounterCache",
        "LOCATION": "",
    }


def test_database_url_and_redis_url_switch_backends(tmp_path):
    result = _load_settings(
        {
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://u:p@db.example:5432/mam",
            "REDIS_URL": "redis://127.0.0.1:6379/1",
        }
    )
    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout
    assert "RedisCache" in result.stdout


def test_throttle_rates_and_schedules_are_overridable_per_tier_and_job(tmp_path):
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.THROTTLE_RATES, s.JOB_SCHEDULE_OVERRIDES]))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("THROTTLE_RATE_", "SCHEDULE_"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "mamcrawler.settings",
            "DATA_DIR": str(tmp_path),
            "MAMCRAWLER_TESTING": "false",
            "THROTTLE_RATE_SEARCH": "40/minute",
            "SCHEDULE_GAP_ANALYSIS": "0 3 * * *",
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rates, schedules = __import__("json").loads(result.stdout)
    assert rates["search"] == "40/minute"
    assert rates["read"] == "60/minute"
    assert schedules == {"gap_analysis": "0 3 * * *"}


def test_a_copy_of_env_example_starts_with_the_defaults(tmp_path):
    """``cp .env.example .env``: every ``NAME=`` left empty means that setting's default."""
    example = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            example[name.strip()] = value.strip()
    example.update(DATA_DIR=str(tmp_path), LOG_DIR=str(tmp_path / "logs"))

    result = _load_settings(example)

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["name"] == str(tmp_path / "mamcrawler.sqlite3")
    assert loaded["counters"]["LOCATION"] == str(tmp_path / "counters.sqlite3")
    assert loaded["jwt_key_is_secret_key"] is True  # never an empty signing key
    assert loaded["library_root"] == ""
