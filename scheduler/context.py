"""What a running job sees: counters, log lines, progress and cancellation."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

from scheduler.models import JobRun

LOG_TAIL_LINES = 200


class JobCancelled(Exception):
    """Raised inside a job when someone asked to cancel its run."""


class JobContext:
    """Handed to every job function as ``job``; the runner saves what it gathers.

    ``progress`` is called with ``(done, total)`` so a terminal can draw a bar.
    """

    def __init__(self, run: JobRun, *, progress: Callable[[int, int | None], None] | None = None):
        self.run = run
        self.logger = logging.getLogger(f"mamcrawler.jobs.{run.job}")
        self.lines: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        self._progress = progress
        self._last_cancel_check = 0.0

    def log(self, message: str, *args, level: int = logging.INFO) -> None:
        text = message % args if args else message
        self.lines.append(f"{time.strftime('%H:%M:%S')} {logging.getLevelName(level)} {text}")
        self.logger.log(level, text)

    def count(self, *, processed: int = 0, succeeded: int = 0, failed: int = 0, skipped: int = 0) -> None:
        self.run.processed += processed
        self.run.succeeded += succeeded
        self.run.failed += failed
        self.run.skipped += skipped

    def progress(self, done: int, total: int | None = None) -> None:
        if self._progress is not None:
            self._progress(done, total)

    def check_cancelled(self) -> None:
        """Raise ``JobCancelled`` when the run was cancelled (reads the database at most every 2 s)."""
        now = time.monotonic()
        if now - self._last_cancel_check < 2:
            return
        self._last_cancel_check = now
        if JobRun.objects.filter(pk=self.run.pk, cancel_requested=True).exists():
            raise JobCancelled()

    @property
    def log_tail(self) -> str:
        return "\n".join(self.lines)
