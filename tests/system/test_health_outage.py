"""A real server whose database is down answers /health/ with 503 in the health shape, not a 500."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "outage-s3cret"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def server_without_database(tmp_path):
    port, db_port = _closed_port(), _closed_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        "DATA_DIR": str(tmp_path),
        "MAMCRAWLER_TESTING": "false",
        "DATABASE_URL": f"postgres://mamcrawler:{PASSWORD}@127.0.0.1:{db_port}/mamcrawler",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "mamcrawler.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/health/live/", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, "gunicorn exited"
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_health_answers_503_in_its_own_shape_when_the_database_is_down(server_without_database):
    base = server_without_database

    health = httpx.get(f"{base}/health/", timeout=10)
    ready = httpx.get(f"{base}/health/ready/", timeout=10)
    deep = httpx.get(f"{base}/health/deep/", timeout=10)
    live = httpx.get(f"{base}/health/live/", timeout=10)

    for response in (health, ready, deep):
        assert response.status_code == 503, response.text
        body = response.json()
        assert set(body) == {"status", "timestamp", "checks"}
        assert body["status"] == "unhealthy"
        assert body["checks"]["database"]["status"] == "error"
        assert PASSWORD not in response.text and "mamcrawler:" not in response.text
    assert health.json()["checks"]["cache"]["status"] == "error"  # the database cache is down too
    assert live.status_code == 200
    assert live.json()["status"] == "healthy"
