"""SQLite ``database is locked``: another writer holds the write lock while a job runs.

A lock shorter than ``SQLITE_BUSY_TIMEOUT`` is waited out and the job succeeds.  A longer
one fails the job's own write; the runner still records the run as failed with a readable
error and releases the job's lock once the database is free again, so the next run does
the work.  Each case runs ``manage.py`` in a subprocess against a file database (the test
database is in memory).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="SQLite's write lock; PostgreSQL has row locks (tests/downloads/test_claim.py)",
)

ROOT = Path(__file__).resolve().parents[2]


def environment(path: Path, busy_timeout: int) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        DATABASE_URL=f"sqlite:///{path}",
        DATA_DIR=str(path.parent),
        SQLITE_BUSY_TIMEOUT=str(busy_timeout),
        DJANGO_SETTINGS_MODULE="mamcrawler.settings",
        PYTHONPATH=str(ROOT),
    )
    env.pop("DJANGO_ENV", None)
    return env


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "mamcrawler.sqlite3"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=environment(path, 5),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path


@pytest.fixture
def database(migrated, tmp_path) -> Path:
    path = tmp_path / "mamcrawler.sqlite3"
    shutil.copy(migrated, path)
    return path


def locked_run(path: Path, *, hold: float, busy_timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.faults.locked_sqlite", str(hold)],
        cwd=ROOT,
        env=environment(path, busy_timeout),
        capture_output=True,
        text=True,
        timeout=120,
    )


def manage(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment(path, 5),
        capture_output=True,
        text=True,
        timeout=120,
    )


def rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def runs(path: Path) -> list[tuple]:
    return rows(path, "SELECT status, error FROM scheduler_jobrun WHERE job = 'download_retry' ORDER BY id")


def download_status(path: Path) -> str:
    return rows(path, "SELECT status FROM downloads_download")[0][0]


def test_a_lock_shorter_than_the_busy_timeout_is_waited_out(database):
    result = locked_run(database, hold=1.0, busy_timeout=5)

    assert result.returncode == 0, result.stderr
    assert runs(database) == [("succeeded", "")]
    assert download_status(database) == "queued"


def test_a_lock_longer_than_the_busy_timeout_is_recorded_and_the_next_run_does_the_work(database):
    result = locked_run(database, hold=3.0, busy_timeout=1)

    # The command ends with the run's readable error (the traceback of the job's failure goes to the log).
    assert result.stderr.strip().splitlines()[-1] == (
        "CommandError: download_retry #1 failed: OperationalError: database is locked"
    ), result.stderr
    ((status, error),) = runs(database)
    assert status == "failed" and error == "OperationalError: database is locked"
    assert rows(database, "SELECT COUNT(*) FROM scheduler_joblock") == [(0,)]  # released: the next run may start
    assert download_status(database) == "failed"  # nothing half-done

    again = manage(database, "run_job", "download_retry")

    assert again.returncode == 0, again.stderr
    assert [status for status, _ in runs(database)] == ["failed", "succeeded"]
    assert download_status(database) == "queued"


def read_while_locked(path: Path, *, counters: str) -> dict:
    env = environment(path, 2)
    env["COUNTERS_SQLITE_PATH"] = counters
    result = subprocess.run(
        [sys.executable, "-m", "tests.faults.read_while_locked", "6"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {"stderr": result.stderr}


def test_reads_keep_answering_while_the_worker_holds_the_write_lock(database):
    answer = read_while_locked(database, counters=str(database.parent / "counters.sqlite3"))

    # The throttle counts in its own file: nothing waits for the library database's lock.
    assert answer["status"] == 200 and answer["seconds"] < 1, answer


def test_with_the_counters_in_the_library_database_the_same_read_waits_for_the_lock(database):
    answer = read_while_locked(database, counters=str(database))

    # What the counters' own file avoids: the throttle's write waits out the busy timeout (2 s) and fails.
    assert answer["status"] == 500 or answer["seconds"] >= 2, answer
