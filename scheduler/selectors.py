"""Reads for the scheduler: job states, run history, worker status, upcoming runs, configuration."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule

from mamcrawler.api.exceptions import NotFound
from scheduler import schedules
from scheduler.choices import RunStatus
from scheduler.models import JobLock, JobRun, JobSetting, WorkerHeartbeat
from scheduler.services import Effective, job_effective
from scheduler.timing import Timing

logger = logging.getLogger("mamcrawler.scheduler")

# How long the broker may take to say how many tasks wait before the status says "unknown".
BROKER_TIMEOUT_SECONDS = 2
REDACTED = "***"
_SECRET_WORDS = ("pass", "secret", "token", "key", "auth")
LAST_RUN_FIELDS = ("id", "job", "status", "trigger", "queued_at", "started_at", "finished_at", "duration_seconds")


@dataclass(frozen=True)
class JobState:
    """A declared job as the API shows it: its effective schedule, next and last run, whether it runs."""

    name: str
    description: str
    schedule: str
    default_schedule: str
    schedule_source: str
    enabled: bool
    condition_ok: bool
    condition: str
    timeout_seconds: int
    next_run: datetime | None
    last_run: JobRun | None
    running: bool


def run_list_queryset() -> QuerySet[JobRun]:
    """Runs for lists: who asked joined in, the long log tail and parameters left out."""
    return JobRun.objects.select_related("requested_by").defer("log_tail", "params")


def run_detail_queryset() -> QuerySet[JobRun]:
    return JobRun.objects.select_related("requested_by")


def _effective_by_name(jobs) -> dict[str, Effective]:
    job_settings = {s.name: s for s in JobSetting.objects.filter(name__in=[job.name for job in jobs])}
    return {job.name: job_effective(job, job_settings.get(job.name)) for job in jobs}


def _next_runs_by_name(names) -> dict[str, datetime | None]:
    """django-q2's next run of each job's schedule (None when the schedule is missing)."""
    return dict(Schedule.objects.filter(name__in=names).order_by().values_list("name", "next_run"))


def _latest_runs(names) -> dict[str, JobRun]:
    """The most recent run of each job, in one query.

    One scalar subquery per job (``ORDER BY queued_at DESC LIMIT 1`` on the ``(job,
    -queued_at)`` index), so the cost does not grow with the history.
    """
    if not names:
        return {}
    latest = Q()
    for name in names:
        newest = JobRun.objects.filter(job=name).order_by("-queued_at", "-id").values("pk")[:1]
        latest |= Q(pk=Subquery(newest))
    brief = JobRun.objects.only(*LAST_RUN_FIELDS)
    return {run.job: run for run in brief.filter(latest).order_by()}


def _running_names(jobs) -> set[str]:
    """Jobs that hold a live lock or have a queued run not yet given up as stale, in one query.

    The same rule as ``runner.job_is_running``, without marking stale runs (a read does not write).
    """
    now = timezone.now()
    grace = timedelta(seconds=settings.JOB_STALE_GRACE_SECONDS)
    fresh_queued = Q()
    for job in jobs:
        fresh_queued |= Q(job=job.name, queued_at__gte=now - timedelta(seconds=job.timeout_seconds) - grace)
    # ``order_by()``: SQLite refuses ORDER BY inside the parts of a UNION.
    locked = (
        JobLock.objects.filter(name__in=[job.name for job in jobs], expires_at__gte=now).order_by().values_list("name")
    )
    queued = JobRun.objects.filter(fresh_queued, status=RunStatus.QUEUED).order_by().values_list("job")
    return {name for (name,) in locked.union(queued)}


def job_states(names: list[str] | None = None) -> list[JobState]:
    """The state of the declared jobs (all, or those named) in four queries, whatever the history.

    Queries: the jobs' settings, their django-q2 schedules, the latest run of each, and
    which of them are running.
    """
    jobs = [job for job in schedules.JOBS.values() if names is None or job.name in names]
    if not jobs:
        return []
    job_names = [job.name for job in jobs]
    effective = _effective_by_name(jobs)
    next_runs = _next_runs_by_name(job_names)
    latest = _latest_runs(job_names)
    running = _running_names(jobs)
    states = []
    for job in jobs:
        current = effective[job.name]
        states.append(
            JobState(
                name=job.name,
                description=job.description,
                schedule=current.schedule,
                default_schedule=job.default_schedule,
                schedule_source=current.source,
                enabled=current.enabled,
                condition_ok=bool(job.condition()),
                condition=job.condition_text,
                timeout_seconds=job.timeout_seconds,
                next_run=next_runs.get(job.name) if current.enabled else None,
                last_run=latest.get(job.name),
                running=job.name in running,
            )
        )
    return states


def job_state(name: str) -> JobState:
    """One declared job's state; NotFound for an undeclared name."""
    if name not in schedules.JOBS:
        raise NotFound(f"Job not found: {name}")
    return job_states([name])[0]


def _run_times(timing: Timing, first: datetime | None, now: datetime, until: datetime) -> list[datetime]:
    """When a schedule fires from ``first`` (django-q2's next run) up to ``until``.

    An overdue ``first`` fires once; after it, like django-q2 without catch-up, the series
    resumes at the schedule's first time after ``now`` instead of replaying missed runs.
    """
    if first is None:
        return timing.next_runs(now, until)
    if first > until:
        return []
    if first >= now:
        return [first, *timing.next_runs(first, until)]
    if timing.minutes:
        step = timedelta(minutes=timing.minutes)
        anchor = first + ((now - first) // step) * step
    else:
        anchor = now
    return [first, *timing.next_runs(anchor, until)]


def jobs_upcoming(*, hours: int, now: datetime | None = None) -> list[dict]:
    """The runs of enabled jobs due in the next ``hours``, soonest first: ``[{"job", "at"}]``.

    Each job's series starts at its django-q2 ``next_run`` (an overdue run shows once, with
    its past time) and follows its effective schedule; a job without a schedule row starts now.
    """
    now = now or timezone.now()
    until = now + timedelta(hours=hours)
    jobs = list(schedules.JOBS.values())
    effective = _effective_by_name(jobs)
    next_runs = _next_runs_by_name([job.name for job in jobs])
    upcoming = []
    for job in jobs:
        current = effective[job.name]
        if current.enabled and current.timing is not None:
            times = _run_times(current.timing, next_runs.get(job.name), now, until)
            upcoming.extend({"job": job.name, "at": moment} for moment in times)
    return sorted(upcoming, key=lambda item: (item["at"], item["job"]))


def queue_length() -> int | None:
    """Tasks waiting in django-q2's broker; None when the broker cannot be asked."""
    if Conf.ORM:
        return OrmQ.objects.using(Conf.ORM).filter(key=Conf.CLUSTER_NAME, lock__lte=timezone.now()).count()
    try:
        broker = get_broker()
        pool = getattr(broker.connection, "connection_pool", None)
        if pool is not None:
            # A status page must answer quickly even when Redis is unreachable.
            pool.connection_kwargs.update(
                socket_connect_timeout=BROKER_TIMEOUT_SECONDS, socket_timeout=BROKER_TIMEOUT_SECONDS
            )
        return int(broker.queue_size())
    except Exception:  # noqa: BLE001 - any broker failure means "unknown", never a 500
        logger.warning("Could not read the django-q2 queue length.", exc_info=True)
        return None


def scheduler_status(*, now: datetime | None = None) -> dict:
    """Worker liveness (heartbeat younger than two intervals), queue length, running runs, next runs."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=2 * schedules.HEARTBEAT_MINUTES)
    workers = [
        {"worker": beat.worker, "seen_at": beat.seen_at, "alive": beat.seen_at >= cutoff}
        for beat in WorkerHeartbeat.objects.order_by("-seen_at", "worker")
    ]
    next_runs = (
        Schedule.objects.filter(name__in=list(schedules.JOBS), next_run__isnull=False)
        .exclude(repeats=0)
        .order_by("next_run", "name")
        .values_list("name", "next_run")
    )
    return {
        "now": now,
        "worker_alive": any(worker["alive"] for worker in workers),
        "last_heartbeat": workers[0]["seen_at"] if workers else None,
        "workers": workers,
        "queue_length": queue_length(),
        "running": list(run_list_queryset().filter(status=RunStatus.RUNNING).order_by("started_at", "id")),
        "next_runs": [{"job": name, "at": at} for name, at in next_runs],
    }


def redact_url(url: str) -> str:
    """``url`` with its password (and secret-looking query values) replaced by ``***``."""
    if not url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:{REDACTED}@{host}" if has_password else f"{REDACTED}@{host}"
    query = urlencode(
        [
            (key, REDACTED if any(word in key.lower() for word in _SECRET_WORDS) else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _broker() -> tuple[str, str | None]:
    """The broker django-q2 uses and where it is, credentials redacted."""
    if Conf.ORM:
        return "orm", f"database alias {Conf.ORM!r}"
    if isinstance(Conf.REDIS, str) and Conf.REDIS:
        return "redis", redact_url(Conf.REDIS)
    if isinstance(Conf.REDIS, dict):
        # Connection keyword arguments: name the server, never the password.
        return "redis", f"{Conf.REDIS.get('host', 'localhost')}:{Conf.REDIS.get('port', 6379)}"
    return "other", None


def scheduler_configuration() -> dict:
    """The django-q2 and job settings that shape scheduling, with each job's schedule source."""
    broker, location = _broker()
    jobs = list(schedules.JOBS.values())
    effective = _effective_by_name(jobs)
    overrides = settings.JOB_SCHEDULE_OVERRIDES
    job_settings = {s.name: s.schedule for s in JobSetting.objects.filter(name__in=[job.name for job in jobs])}
    return {
        "broker": broker,
        "broker_location": location,
        "cluster_name": Conf.CLUSTER_NAME,
        "workers": Conf.WORKERS,
        "timeout": Conf.TIMEOUT,
        "retry": Conf.RETRY,
        "max_attempts": Conf.MAX_ATTEMPTS,
        "catch_up": Conf.CATCH_UP,
        "sync": Conf.SYNC,
        "job_history_days": settings.JOB_HISTORY_DAYS,
        "job_stale_grace_seconds": settings.JOB_STALE_GRACE_SECONDS,
        "heartbeat_minutes": schedules.HEARTBEAT_MINUTES,
        "jobs": [
            {
                "name": job.name,
                "default_schedule": job.default_schedule,
                "env_schedule": overrides.get(job.name) or None,
                "api_schedule": job_settings.get(job.name) or None,
                "schedule": effective[job.name].schedule,
                "schedule_source": effective[job.name].source,
                "enabled": effective[job.name].enabled,
                "timeout_seconds": job.timeout_seconds,
            }
            for job in jobs
        ],
    }
