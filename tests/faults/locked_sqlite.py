"""Run ``download_retry`` against a file SQLite database whose write lock another connection takes mid-run.

Used by ``test_sqlite_locked.py`` as ``python -m tests.faults.locked_sqlite HOLD_SECONDS`` with
``DATABASE_URL`` naming a migrated SQLite file.  It records one failed download due for a
retry, then runs the job through ``manage.py run_job``; the job's function first lets a
plain ``sqlite3`` connection take the write lock (``BEGIN IMMEDIATE``) and keep it for
``HOLD_SECONDS`` — as a second process writing would — and only then does its work.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from datetime import timedelta

import django


def hold_write_lock(path: str, seconds: float) -> None:
    """Take the database's write lock now and give it back after ``seconds`` (in a thread)."""
    taken = threading.Event()

    def holder():
        other = sqlite3.connect(path, isolation_level=None, timeout=30)
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE scheduler_workerheartbeat SET seen_at = seen_at")
        taken.set()
        threading.Event().wait(seconds)
        other.execute("COMMIT")
        other.close()

    threading.Thread(target=holder, daemon=True).start()
    taken.wait(30)


def main(hold_seconds: float) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamcrawler.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import execute_from_command_line
    from django.utils import timezone

    from downloads import state
    from downloads.models import Download, DownloadStatus

    Download.objects.create(
        title="Oathbringer",
        info_hash="b" * 40,
        status=DownloadStatus.FAILED,
        retry_count=1,
        last_error="Import failed: No space left on device.",
        next_retry_at=timezone.now() - timedelta(minutes=1),
    )
    real = state.downloads_retry_due

    def retry_while_locked(*, job):
        hold_write_lock(settings.DATABASES["default"]["NAME"], hold_seconds)
        return real(job=job)

    state.downloads_retry_due = retry_while_locked
    execute_from_command_line(["manage.py", "run_job", "download_retry"])


if __name__ == "__main__":
    main(float(sys.argv[1]))
