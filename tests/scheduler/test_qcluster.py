"""A real django-q2 cluster: it runs a queued job and fires a schedule (SPEC §10).

``manage.py qcluster`` runs as a subprocess on a fresh database of its own: a SQLite file
in a temporary DATA_DIR, or — when this suite runs on PostgreSQL — a fresh PostgreSQL
database created here and dropped afterwards.  The test talks to that database directly.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


class Database:
    """The cluster's database, queried without Django (the test's own ORM is on the test DB)."""

    def __init__(self, url: str, sqlite_path: Path | None = None):
        self.url = url
        self.sqlite_path = sqlite_path

    def rows(self, query: str, *params) -> list[tuple]:
        if self.sqlite_path is not None:
            query = query.replace("%s", "?")
            # Django keeps SQLite datetimes as naive UTC text.
            params = tuple(p.strftime("%Y-%m-%d %H:%M:%S") if isinstance(p, datetime) else p for p in params)
            with sqlite3.connect(self.sqlite_path, timeout=20) as conn:
                return conn.execute(query, params).fetchall()
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def wait_for(self, what: str, query: str, *params, process: subprocess.Popen, log: Path):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            found = self.rows(query, *params)
            if found:
                return found
            assert process.poll() is None, f"qcluster exited ({process.returncode}):\n{log.read_text()[-3000:]}"
            time.sleep(0.25)
        pytest.fail(f"Timed out waiting for {what}.\n{log.read_text()[-3000:]}")


@pytest.fixture
def cluster_database(tmp_path):
    """A fresh, empty database for the cluster; yields (Database, environment)."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(DATA_DIR=str(tmp_path), MAMCRAWLER_TESTING="false", Q_SYNC="false", Q_WORKERS="1")
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        path = tmp_path / "mamcrawler.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{path}"
        yield Database(env["DATABASE_URL"], sqlite_path=path), env
        return
    parts = urlsplit(settings.DATABASE_URL)
    name = f"{parts.path.lstrip('/')}_qcluster_{os.getpid()}"
    url = urlunsplit(parts._replace(path=f"/{name}"))
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env["DATABASE_URL"] = url
    try:
        yield Database(url), env
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _manage(env, *args) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the cluster, SIGKILL its whole process group after 15 s (forked workers included).

    SIGTERM goes to the cluster's main process only: it stops its workers itself in about a
    second, whereas SIGTERM sent to every process of the group leaves it hanging.
    """
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # stragglers, or a cluster that ignored SIGTERM
    process.wait(timeout=5)


ORPHAN = """
from datetime import timedelta
from django.utils import timezone
from scheduler.models import JobLock, JobRun
# What a worker killed mid-run leaves behind: a running run and its lock, both long expired.
then = timezone.now() - timedelta(hours=2)
run = JobRun.objects.create(job="cleanup", trigger="api", status="running", worker="dead-host:1")
JobRun.objects.filter(pk=run.pk).update(queued_at=then, started_at=then)
JobLock.objects.create(name="cleanup", run=run, owner="dead-host:1", acquired_at=then, expires_at=then)
print(run.pk)
"""

ENQUEUE = """
from django.db import transaction
from scheduler.runner import job_enqueue
with transaction.atomic():
    run = job_enqueue(name="cleanup", trigger="api")
print(run.pk)
"""


def test_the_cluster_runs_queued_and_scheduled_jobs(cluster_database, tmp_path):
    db, env = cluster_database
    # Exactly what a deployment runs before starting a worker; no `make run` set-up needed.
    _manage(env, "migrate", "--noinput")
    _manage(env, "createcachetable")
    # The schedules exist after migrate; make the cleanup job and the heartbeat due now.  (Only just
    # overdue: without catch-up django-q2 steps a schedule forward interval by interval to the
    # present, which for the one-minute heartbeat from years ago would take the scheduler ages.)
    overdue = datetime.now(UTC) - timedelta(minutes=2)
    db.rows(
        "UPDATE django_q_schedule SET next_run = %s WHERE name IN ('cleanup', 'mamcrawler:heartbeat') RETURNING id",
        overdue,
    )
    log = tmp_path / "qcluster.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # (a) a run enqueued through the ORM broker, as the API does, is picked up and succeeds,
        # although a killed worker left a run of the same job "running" with its lock held.
        orphan_id = int(_manage(env, "shell", "-v", "0", "-c", ORPHAN).strip().splitlines()[-1])
        run_id = int(_manage(env, "shell", "-v", "0", "-c", ENQUEUE).strip().splitlines()[-1])
        ((status, task_id, worker),) = db.wait_for(
            "the queued run to finish",
            "SELECT status, task_id, worker FROM scheduler_jobrun WHERE id = %s AND status IN "
            "('succeeded', 'failed', 'cancelled')",
            run_id,
            process=process,
            log=log,
        )
        assert status == "succeeded"
        assert task_id
        assert worker and not worker.endswith(f":{os.getpid()}")
        ((orphan_status, orphan_error),) = db.rows(
            "SELECT status, error FROM scheduler_jobrun WHERE id = %s", orphan_id
        )
        assert orphan_status == "failed"
        assert "Worker died" in orphan_error

        # (b) the scheduler (every 30 s in django-q2) fires the overdue cleanup schedule ...
        ((scheduled_status,),) = db.wait_for(
            "a scheduled run",
            "SELECT status FROM scheduler_jobrun WHERE trigger = 'schedule' AND status IN "
            "('succeeded', 'failed', 'cancelled')",
            process=process,
            log=log,
        )
        assert scheduled_status == "succeeded"
        # ... and the heartbeat schedule, so the worker is visibly alive.
        db.wait_for(
            "the heartbeat task",
            "SELECT id FROM django_q_task WHERE func = 'scheduler.runner.heartbeat' AND success = %s",
            True,
            process=process,
            log=log,
        )
        assert db.rows("SELECT worker, seen_at FROM scheduler_workerheartbeat")
        ((next_run,),) = db.rows("SELECT next_run FROM django_q_schedule WHERE name = 'cleanup'")
        assert str(next_run) > str(overdue)[:19]  # moved on to its next time
    finally:
        _stop(process)
