"""Writes for jobs: syncing django-q2 schedules, editing, pausing and cancelling."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from mamcrawler.api.exceptions import Conflict, NotFound
from scheduler import schedules
from scheduler.choices import FINAL_STATUSES, RunStatus
from scheduler.models import JobRun, JobSetting
from scheduler.runner import job_enqueue
from scheduler.schedules import HEARTBEAT_MINUTES, Job, get_job
from scheduler.timing import Timing, parse_timing

logger = logging.getLogger("mamcrawler.scheduler")

ENTRY = "scheduler.runner.scheduled_entry"
HEARTBEAT_NAME = "mamcrawler:heartbeat"
HEARTBEAT_FUNC = "scheduler.runner.heartbeat"
OFF = "off"
STALE_NEXT_RUN = timedelta(days=1)


@dataclass(frozen=True)
class Effective:
    """A job's schedule as configured: text, where it came from, parsed timing, enabled."""

    schedule: str
    source: str  # "default", "env" or "api"
    timing: Timing | None
    enabled: bool


def job_effective(job: Job, setting: JobSetting | None) -> Effective:
    """Resolve a job's schedule: an API/admin change wins over ``SCHEDULE_<NAME>``, which wins over the default."""
    if setting is not None and setting.schedule:
        text, source = setting.schedule, "api"
    elif job.env_schedule():
        text, source = job.env_schedule(), "env"
    else:
        text, source = job.default_schedule, "default"
    timing = None if text.lower() == OFF else parse_timing(text)
    enabled = timing is not None and job.condition()
    if setting is not None and setting.enabled is not None:
        enabled = setting.enabled and timing is not None
    return Effective(schedule=text, source=source, timing=timing, enabled=enabled)


def _desired(timing: Timing, enabled: bool) -> dict:
    if timing.cron:
        fields = {"schedule_type": Schedule.CRON, "cron": timing.cron, "minutes": None}
    else:
        fields = {"schedule_type": Schedule.MINUTES, "cron": None, "minutes": timing.minutes}
    fields["repeats"] = -1 if enabled else 0
    return fields


def _first_run(fields: dict):
    probe = Schedule(**{k: v for k, v in fields.items() if k != "repeats"}, next_run=timezone.now())
    return probe.calculate_next_run(timezone.now())


def _apply(name: str, func: str, args: str, fields: dict, existing: Schedule | None) -> str:
    if existing is None:
        Schedule.objects.create(name=name, func=func, args=args, next_run=_first_run(fields), **fields)
        return "created"
    timing_changed = any(getattr(existing, k) != v for k, v in fields.items() if k != "repeats")
    # django-q2 without catch-up steps an overdue schedule forward one interval at a time;
    # after a long downtime that loop is long, so a very stale next run starts afresh.
    stale = existing.next_run is None or existing.next_run < timezone.now() - STALE_NEXT_RUN
    changed = (
        timing_changed
        or stale
        or existing.func != func
        or existing.args != args
        or existing.repeats != fields["repeats"]
    )
    if not changed:
        return "unchanged"
    for key, value in fields.items():
        setattr(existing, key, value)
    existing.func, existing.args = func, args
    if timing_changed or stale:
        existing.next_run = _first_run(fields)
    existing.save()
    return "updated"


@transaction.atomic
def schedules_sync() -> dict[str, list[str]]:
    """Reconcile django-q2 Schedules with the registry; idempotent.

    Updates our schedules by name, creates missing ones, and deletes only schedules that
    call our entry point for a job no longer declared.  Others' schedules are untouched.
    """
    report: dict[str, list[str]] = {"created": [], "updated": [], "deleted": [], "unchanged": []}
    settings_by_name = {s.name: s for s in JobSetting.objects.all()}
    existing = {
        s.name: s for s in Schedule.objects.select_for_update().filter(name__in=[*schedules.JOBS, HEARTBEAT_NAME])
    }
    for job in schedules.JOBS.values():
        effective = job_effective(job, settings_by_name.get(job.name))
        timing = effective.timing or parse_timing(job.default_schedule)
        outcome = _apply(
            job.name, ENTRY, repr((job.name,)), _desired(timing, effective.enabled), existing.get(job.name)
        )
        report[outcome].append(job.name)
    heartbeat = _desired(Timing(text=f"{HEARTBEAT_MINUTES}m", minutes=HEARTBEAT_MINUTES), True)
    report[_apply(HEARTBEAT_NAME, HEARTBEAT_FUNC, "()", heartbeat, existing.get(HEARTBEAT_NAME))].append(HEARTBEAT_NAME)
    orphans = Schedule.objects.filter(func=ENTRY).exclude(name__in=list(schedules.JOBS))
    report["deleted"] = sorted(orphans.values_list("name", flat=True))
    orphans.delete()
    if report["created"] or report["updated"] or report["deleted"]:
        logger.info("Schedules synced: %s", {k: v for k, v in report.items() if k != "unchanged" and v})
    return report


def _job(name: str) -> Job:
    job = get_job(name)
    if job is None:
        raise NotFound(f"Job not found: {name}")
    return job


@transaction.atomic
def job_update(*, name: str, schedule: str | None = None, enabled: bool | None = None, user=None) -> JobSetting:
    """Change a job's schedule and/or enabled flag and re-sync its django-q2 schedule.

    ``schedule`` must be a cron expression, an interval or ``off`` (blank: back to the
    environment's or the declared default); ``ValueError`` otherwise.
    """
    _job(name)
    if schedule is not None and schedule.strip() and schedule.strip().lower() != OFF:
        parse_timing(schedule)
    setting, _ = JobSetting.objects.get_or_create(name=name)
    if schedule is not None:
        setting.schedule = schedule.strip()
    if enabled is not None:
        setting.enabled = enabled
    setting.updated_by = user if getattr(user, "is_authenticated", False) else None
    setting.save()
    schedules_sync()
    return setting


def job_set_enabled(*, name: str, enabled: bool, user=None) -> JobSetting:
    """Pause (``enabled=False``) or resume a job's schedule."""
    return job_update(name=name, enabled=enabled, user=user)


def jobs_enqueue(*, names, trigger: str, user=None) -> tuple[list[JobRun], list[dict]]:
    """Queue one run of each named job (``job_enqueue``); returns the queued runs and the skipped jobs.

    A name that is not a declared job, or a job already running, is skipped with a reason
    (``not_declared``, ``running``) instead of failing the others.
    """
    queued: list[JobRun] = []
    skipped: list[dict] = []
    for name in names:
        if get_job(name) is None:
            skipped.append({"job": name, "reason": "not_declared"})
            continue
        try:
            queued.append(job_enqueue(name=name, trigger=trigger, user=user))
        except Conflict:
            skipped.append({"job": name, "reason": "running"})
    return queued, skipped


def jobs_run_all(*, trigger: str, user=None) -> tuple[list[JobRun], list[dict]]:
    """Queue every enabled job that is not running; disabled jobs are skipped (``disabled``)."""
    settings_by_name = {s.name: s for s in JobSetting.objects.all()}
    enabled, skipped = [], []
    for job in schedules.JOBS.values():
        if job_effective(job, settings_by_name.get(job.name)).enabled:
            enabled.append(job.name)
        else:
            skipped.append({"job": job.name, "reason": "disabled"})
    queued, busy = jobs_enqueue(names=enabled, trigger=trigger, user=user)
    return queued, skipped + busy


@transaction.atomic
def run_cancel(*, run: JobRun) -> JobRun:
    """Cancel a run: a queued run never starts; a running one stops at its next check.

    Raises Conflict for a run that already finished.
    """
    run = JobRun.objects.select_for_update().get(pk=run.pk)
    if run.status in FINAL_STATUSES:
        raise Conflict(f"Run {run.pk} already {run.status}.")
    run.cancel_requested = True
    fields = ["cancel_requested"]
    if run.status == RunStatus.QUEUED:
        run.status, run.finished_at, run.error = RunStatus.CANCELLED, timezone.now(), "Cancelled before it started."
        fields += ["status", "finished_at", "error"]
    run.save(update_fields=fields)
    return run
