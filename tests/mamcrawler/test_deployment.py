"""Production deployment: check --deploy is clean, the image runs as a user, the compose file holds together."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "deploy-test-" + "k" * 60,
    "ALLOWED_HOSTS": "books.example",
    "CSRF_TRUSTED_ORIGINS": "https://books.example",
    "SECURE_SSL_REDIRECT": "true",
}


def _manage(*args: str, env: dict, tmp_path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ENV", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**clean, "DATA_DIR": str(tmp_path), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_https_redirect(tmp_path):
    env = {**PRODUCTION_ENV, "SECURE_SSL_REDIRECT": "false"}

    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)

    assert result.returncode != 0 and "security.W008" in result.stderr + result.stdout


def test_production_settings_are_secure_and_the_proxy_header_is_opt_in(tmp_path):
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'debug': s.DEBUG, 'session': s.SESSION_COOKIE_SECURE, 'csrf': s.CSRF_COOKIE_SECURE, "
        "'hsts': s.SECURE_HSTS_SECONDS, 'proxy': s.SECURE_PROXY_SSL_HEADER, 'hosts': s.ALLOWED_HOSTS, "
        "'origins': s.CSRF_TRUSTED_ORIGINS, 'static': s.STORAGES['staticfiles']['BACKEND']}))"
    )

    def load(extra: dict) -> dict:
        import json

        clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ENV"}}
        env = {**clean, "DJANGO_SETTINGS_MODULE": "mamcrawler.settings", "DATA_DIR": str(tmp_path), **extra}
        result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    plain = load(PRODUCTION_ENV)
    assert (plain["debug"], plain["session"], plain["csrf"]) == (False, True, True)
    assert plain["hsts"] >= 31536000 and plain["proxy"] is None
    assert plain["hosts"] == ["books.example"] and plain["origins"] == ["https://books.example"]
    assert "whitenoise" in plain["static"].lower()
    assert load({**PRODUCTION_ENV, "SECURE_PROXY_SSL_HEADER": "true"})["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_the_image_runs_gunicorn_as_a_non_root_user_with_a_healthcheck():
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = [line.split(None, 1) for line in dockerfile.splitlines() if line and not line.startswith((" ", "#"))]
    keywords = [parts[0] for parts in instructions]

    user = [parts[1] for parts in instructions if parts[0] == "USER"]
    assert user and user[-1].strip() not in ("root", "0")
    assert keywords.index("USER") < keywords.index("CMD")
    assert "HEALTHCHECK" in keywords and "bin/healthcheck" in dockerfile
    assert "gunicorn mamcrawler.wsgi" in dockerfile and "collectstatic" in dockerfile
    assert (ROOT / "bin" / "healthcheck").stat().st_mode & 0o111


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_compose_file_has_the_whole_stack():
    compose = _compose()
    services = compose["services"]

    assert {"db", "redis", "web", "worker", "qbittorrent", "audiobookshelf"} <= set(services)
    assert services["qbittorrent"]["profiles"] == ["clients"] and services["audiobookshelf"]["profiles"] == ["clients"]
    for name in ("web", "worker"):
        service = services[name]
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://redis:")
        assert env["DJANGO_ENV"].startswith("${DJANGO_ENV:-production")
        assert "SECRET_KEY" in env and service["depends_on"]["db"]["condition"] == "service_healthy"
        assert any(volume.endswith(":/data") for volume in service["volumes"])
        assert any(volume.endswith(":/library") for volume in service["volumes"])
    assert "gunicorn" in services["web"]["command"] and "migrate" in services["web"]["command"]
    assert services["worker"]["command"] == "python manage.py qcluster"
    assert services["db"]["healthcheck"]["test"]
    declared = set(compose["volumes"])
    named = {
        volume.split(":", 1)[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if not volume.startswith(("$", ".", "/"))
    }
    assert named <= declared


def _compose_plugin() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.skipif(not _compose_plugin(), reason="no docker compose here; the YAML checks above still run")
def test_docker_compose_config_validates(tmp_path):
    env = {**os.environ, "SECRET_KEY": "x" * 50}
    result = subprocess.run(
        ["docker", "compose", "config", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
