"""Settings come from the environment: production refuses to start without a secret key."""

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
        "'opts': s.DATABASES['default'].get('OPTIONS', {})}))"
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
