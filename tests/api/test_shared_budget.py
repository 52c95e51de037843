"""Two gunicorn workers on one SQLite database share one throttle budget (N allowed, not 2N)."""

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env, *args) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def server(tmp_path):
    """gunicorn with two workers on a fresh SQLite database; yields (base URL, API key)."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DATA_DIR": str(tmp_path),
        "MAMCRAWLER_TESTING": "false",
        "THROTTLE_RATE_READ": f"{BUDGET}/minute",
        "MAMCRAWLER_ADMIN_PASSWORD": "budget-admin-pw",
    }
    _manage(env, "migrate", "--noinput")
    _manage(env, "ensure_admin")
    secret = _manage(env, "create_api_key", "--user", "admin", "--scopes", "read").strip().splitlines()[-1]
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "mamcrawler.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/api/schema/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield base, secret
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_two_workers_admit_the_budget_once(server):
    base, secret = server

    def call(_):
        return httpx.get(f"{base}/api/v1/books/", headers={"X-Api-Key": secret}, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(call, range(3 * BUDGET)))
    assert statuses.count(200) == BUDGET
    assert statuses.count(429) == 2 * BUDGET
