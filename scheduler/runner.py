"""The one wrapper every job run goes through (SPEC §10).

``job_enqueue`` records a queued JobRun and hands its id to the worker; ``job_execute``
runs it under the job's lock and records the outcome; ``scheduled_entry`` is what the
django-q2 schedules call.  Runs left ``running`` by a dead worker are marked failed.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django_q.tasks import async_task

from mamcrawler.api.exceptions import Conflict, ExternalApiError, NotFound
from mamcrawler.api.request_id import current_request_id
from scheduler.choices import FINAL_STATUSES, RunStatus, Trigger
from scheduler.context import JobCancelled, JobContext
from scheduler.locks import lock_acquire, lock_holder, lock_release, worker_name
from scheduler.models import JobRun, WorkerHeartbeat
from scheduler.schedules import Job, get_job

logger = logging.getLogger("mamcrawler.scheduler")

T = TypeVar("T")
# A bookkeeping write that meets a lock is tried again (SPEC §11); each try already waits
# SQLITE_BUSY_TIMEOUT on SQLite, so these pauses only add up when a writer holds on longer.
LOCKED_ATTEMPTS = 5
LOCKED_PAUSE_SECONDS = 0.2
_LOCKED_TEXTS = ("database is locked", "database table is locked")
_LOCKED_SQLSTATES = ("40001", "40P01", "55P03")  # PostgreSQL: serialization failure, deadlock, lock not available


def _is_lock_error(exc: OperationalError) -> bool:
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return sqlstate in _LOCKED_SQLSTATES or any(text in str(exc) for text in _LOCKED_TEXTS)


def _retry_locked(write: Callable[[], T]) -> T:
    """Do one of the runner's own writes, again after a pause while the database is locked.

    Without it a lock held past the busy timeout would leave the run ``running`` and the
    job's lock taken, so the next runs would be refused as "already running".
    """
    attempt = 1
    while True:
        try:
            return write()
        except OperationalError as exc:
            if attempt >= LOCKED_ATTEMPTS or connection.in_atomic_block or not _is_lock_error(exc):
                raise
            logger.warning("Database locked (%s); job bookkeeping tried again (%d).", exc, attempt)
        time.sleep(LOCKED_PAUSE_SECONDS * 2 ** (attempt - 1))
        attempt += 1


def _job_or_404(name: str) -> Job:
    job = get_job(name)
    if job is None:
        raise NotFound(f"Job not found: {name}")
    return job


def job_is_running(name: str) -> bool:
    """True while a run of ``name`` holds its lock or waits in the queue."""
    runs_mark_stale()
    return lock_holder(name) is not None or JobRun.objects.filter(job=name, status=RunStatus.QUEUED).exists()


def job_enqueue(*, name: str, trigger: str, user=None, params: dict | None = None) -> JobRun:
    """Record a queued run of ``name`` and hand it to the worker once the transaction commits.

    Raises NotFound for an undeclared job and Conflict while the job already runs.
    """
    job = _job_or_404(name)
    with transaction.atomic():
        if job_is_running(name):
            raise Conflict(f"Job {name} is already running.", context={"job": name})
        run = JobRun.objects.create(
            job=job.name,
            trigger=trigger,
            requested_by=user if getattr(user, "is_authenticated", False) else None,
            request_id=current_request_id() or "",
            params=params or {},
        )
        transaction.on_commit(lambda: _submit(run, job))
    return run


def job_start(*, name: str, trigger: str, user=None, params: dict | None = None, wait: bool = False) -> JobRun:
    """Queue a run of ``name`` for the worker, or with ``wait`` run it here and return it finished.

    The one entry point for "start a job" endpoints (``?wait=true``); raises like ``job_enqueue``.
    """
    if wait:
        return job_run_now(name=name, trigger=trigger, user=user, params=params)
    return job_enqueue(name=name, trigger=trigger, user=user, params=params)


def _submit(run: JobRun, job: Job) -> None:
    task_id = async_task(
        "scheduler.runner.worker_execute",
        run.pk,
        task_name=f"{job.name}#{run.pk}",
        timeout=job.timeout_seconds,
    )
    JobRun.objects.filter(pk=run.pk, task_id="").update(task_id=str(task_id or ""))


def job_run_now(
    *,
    name: str,
    trigger: str,
    user=None,
    params: dict | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> JobRun:
    """Run ``name`` in this process (commands, ``?wait=true``) and return the finished JobRun."""
    job = _job_or_404(name)
    if job_is_running(name):
        raise Conflict(f"Job {name} is already running.", context={"job": name})
    run = _retry_locked(
        lambda: JobRun.objects.create(
            job=job.name,
            trigger=trigger,
            requested_by=user if getattr(user, "is_authenticated", False) else None,
            request_id=current_request_id() or "",
            params=params or {},
        )
    )
    return job_execute(run.pk, progress=progress)


def job_execute(run_id: int, progress: Callable[[int, int | None], None] | None = None) -> JobRun:
    """Run a queued JobRun under its job's lock and record counters, summary, error and log tail.

    A run that was cancelled before it started, or whose job is locked by another live
    run, does not start.  Never raises for a job failure: the JobRun says what happened.
    """
    run = JobRun.objects.select_related(None).get(pk=run_id)
    if run.status != RunStatus.QUEUED:
        return run
    job = get_job(run.job)
    if job is None:
        return _finish(run, RunStatus.FAILED, error=f"Job {run.job} is no longer declared.")
    if run.cancel_requested:
        return _finish(run, RunStatus.CANCELLED, error="Cancelled before it started.")
    if not lock_acquire(name=job.name, run=run, ttl_seconds=job.timeout_seconds + settings.JOB_STALE_GRACE_SECONDS):
        return _finish(run, RunStatus.CANCELLED, error="Another run of this job was in progress.")

    context = JobContext(run, progress=progress)
    run.status = RunStatus.RUNNING
    run.started_at = timezone.now()
    run.worker = worker_name()
    _retry_locked(lambda: run.save(update_fields=["status", "started_at", "worker"]))
    started = time.monotonic()
    status, error = RunStatus.SUCCEEDED, ""
    try:
        summary = job.load()(job=context, **run.params)
        run.summary = summary if isinstance(summary, dict) else {}
    except JobCancelled:
        status, error = RunStatus.CANCELLED, "Cancelled while running."
        context.log("Cancelled.", level=logging.WARNING)
    except ExternalApiError as exc:
        status, error = RunStatus.FAILED, f"{exc.service}: {exc.detail_text or exc.message}"
        context.log(error, level=logging.ERROR)
    except Exception as exc:  # noqa: BLE001 - a job failure is recorded, never raised
        status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        logger.error("Job %s run %s failed\n%s", run.job, run.pk, traceback.format_exc())
        context.log(error, level=logging.ERROR)
    finally:
        run.duration_seconds = round(time.monotonic() - started, 3)
        run.log_tail = context.log_tail
        _retry_locked(lambda: lock_release(name=job.name, run=run))
    return _finish(run, status, error=error)


def worker_execute(run_id: int) -> int:
    """The worker's entry for queued runs: a sign of life, then the run."""
    heartbeat_beat()
    return job_execute(run_id).pk


def _finish(run: JobRun, status: str, *, error: str = "") -> JobRun:
    run.status = status
    run.error = error[:10000]
    run.finished_at = timezone.now()
    # Explicit fields: ``cancel_requested`` may have been set by another process meanwhile.
    _retry_locked(
        lambda: run.save(
            update_fields=[
                "status",
                "error",
                "finished_at",
                "duration_seconds",
                "log_tail",
                "summary",
                "processed",
                "succeeded",
                "failed",
                "skipped",
            ]
        )
    )
    try:  # job_failed and the run's digests (SPEC §10.1); a notification never fails a job
        from notifications.events import job_run_finished

        job_run_finished(run)
    except Exception:  # noqa: BLE001
        logger.exception("Notifications of run %s failed", run.pk)
    return run


def scheduled_entry(name: str) -> int | None:
    """Called by the django-q2 schedule of ``name``: run it now unless a run is in progress."""
    job = get_job(name)
    if job is None:
        logger.warning("Schedule for undeclared job %s ignored.", name)
        return None
    if job_is_running(name):
        logger.info("Scheduled %s skipped: a run is in progress.", name)
        return None
    run = JobRun.objects.create(job=name, trigger=Trigger.SCHEDULE)
    return worker_execute(run.pk)


def runs_mark_stale() -> int:
    """Mark runs a dead worker left behind as failed ("worker died"); returns how many.

    A run is stale once its job's timeout plus a grace period has passed since it started
    (or, for a queued run no worker picked up, since it was queued).
    """
    now = timezone.now()
    stale = 0
    grace = timedelta(seconds=settings.JOB_STALE_GRACE_SECONDS)
    open_runs = JobRun.objects.exclude(status__in=FINAL_STATUSES).only("id", "job", "status", "started_at", "queued_at")
    for run in open_runs:
        job = get_job(run.job)
        timeout = timedelta(seconds=job.timeout_seconds if job else 3600)
        since = run.started_at or run.queued_at
        if since + timeout + grace < now:
            reason = "Worker died: no result within the job's timeout." if run.started_at else "Never started."
            stale += JobRun.objects.filter(pk=run.pk, status=run.status).update(
                status=RunStatus.FAILED, error=reason, finished_at=now
            )
    return stale


def heartbeat_beat() -> None:
    """Record that a worker on this host is alive (worker start, the heartbeat schedule, worker runs)."""
    WorkerHeartbeat.objects.update_or_create(worker=worker_name().split(":")[0], defaults={"seen_at": timezone.now()})


def heartbeat() -> None:
    """The heartbeat schedule: a sign of life, and clean-up of runs dead workers left behind."""
    heartbeat_beat()
    runs_mark_stale()
