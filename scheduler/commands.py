"""The base of every management command that runs a declared job (SPEC §10).

A ``JobCommand`` runs its job in this process through ``scheduler.runner.job_run_now``, so
the run is a JobRun (trigger ``command``) under the job's lock like any other.  It draws a
progress bar on a terminal, prints a one-line summary, exits non-zero when the run failed
or could not start, and turns SIGTERM (or Ctrl-C) into a cancellation request: the job
stops at its next ``check_cancelled``; a second signal stops the command at once.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from contextlib import contextmanager, nullcontext

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from mamcrawler.api.exceptions import Conflict, NotFound
from scheduler import schedules
from scheduler.choices import RunStatus, Trigger
from scheduler.locks import worker_name
from scheduler.models import JobRun
from scheduler.runner import job_run_now


def declared_jobs() -> str:
    return ", ".join(sorted(schedules.JOBS)) or "(none)"


class JobCommand(BaseCommand):
    """Runs ``job_name`` (or the name ``get_job_name`` returns) and reports its JobRun."""

    job_name: str = ""

    def get_job_name(self, options) -> str:
        return self.job_name

    def get_params(self, options) -> dict:
        return {}

    def handle(self, *args, **options):
        name = self.get_job_name(options)
        if schedules.get_job(name) is None:
            raise CommandError(f"Unknown job {name!r}. Declared jobs: {declared_jobs()}.")
        params = self.get_params(options)
        bar = _ProgressBar(self.stdout) if options["verbosity"] >= 1 and self.stdout.isatty() else None
        self._started = timezone.now()
        try:
            with self._cancel_on_signals(name), logging_redirect_tqdm() if bar else nullcontext():
                run = job_run_now(
                    name=name, trigger=Trigger.COMMAND, params=params, progress=bar.update if bar else None
                )
        except NotFound:
            raise CommandError(f"Unknown job {name!r}. Declared jobs: {declared_jobs()}.")
        except Conflict:
            raise CommandError(f"Job {name} is already running; try again when it has finished.")
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(self.summary_line(run))
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"{run.job} #{run.pk} {run.status}: {run.error or 'no error recorded'}")

    @staticmethod
    def summary_line(run: JobRun) -> str:
        summary = json.dumps(run.summary or {}, separators=(",", ":"), default=str)
        return (
            f"{run.job} #{run.pk} {run.status} in {run.duration_seconds or 0:.2f}s: "
            f"processed={run.processed} succeeded={run.succeeded} failed={run.failed} skipped={run.skipped} "
            f"summary={summary}"
        )

    @contextmanager
    def _cancel_on_signals(self, name: str):
        """While the job runs, the first SIGTERM/SIGINT asks it to stop; the second is not caught."""
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be installed from the main thread
            return
        # getsignal() says None for a handler not installed from Python; restore the default then.
        previous = {sig: signal.getsignal(sig) or signal.SIG_DFL for sig in (signal.SIGTERM, signal.SIGINT)}

        def on_signal(signum, frame):
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stderr.write(f"{signal.Signals(signum).name}: cancelling {name} (send it again to stop at once).")
            # The job's own connection may be inside a transaction right now; the request is
            # written from another thread and connection, and never waited for here (on SQLite
            # that wait could be for the very lock this thread holds).
            threading.Thread(target=self._request_cancel, args=(name,), daemon=True).start()

        for sig in previous:
            signal.signal(sig, on_signal)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _request_cancel(self, name: str) -> None:
        """Set ``cancel_requested`` on this process's run of ``name``."""
        try:
            mine = Q(worker=worker_name()) | Q(status=RunStatus.QUEUED, worker="")
            JobRun.objects.filter(
                mine,
                job=name,
                trigger=Trigger.COMMAND,
                status__in=[RunStatus.QUEUED, RunStatus.RUNNING],
                queued_at__gte=self._started,
            ).update(cancel_requested=True)
        except Exception as exc:  # noqa: BLE001 - nothing to raise into from here
            self.stderr.write(f"Could not request cancellation: {type(exc).__name__}: {exc}")
        finally:
            connection.close()


class _ProgressBar:
    """A tqdm bar fed by ``JobContext.progress(done, total)``; opened at the first call."""

    def __init__(self, stdout):
        self._stream = getattr(stdout, "_out", sys.stdout)
        self._bar: tqdm | None = None

    def update(self, done: int, total: int | None = None) -> None:
        if self._bar is None:
            self._bar = tqdm(total=total, file=self._stream, unit="item", dynamic_ncols=True, leave=True)
        if total is not None and self._bar.total != total:
            self._bar.total = total
        self._bar.update(max(0, done - self._bar.n))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
