"""The job wrapper: JobRuns, the lock, failures, cancellation and dead workers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mamcrawler.api.exceptions import Conflict, NotFound
from scheduler import schedules
from scheduler.choices import RunStatus, Trigger
from scheduler.locks import lock_acquire
from scheduler.models import JobLock, JobRun, WorkerHeartbeat
from scheduler.runner import job_enqueue, job_execute, job_run_now, runs_mark_stale, scheduled_entry

pytestmark = pytest.mark.django_db


def _counting_job(*, job, items=3):
    for index in range(items):
        job.count(processed=1, succeeded=1)
        job.progress(index + 1, items)
    job.log("Counted %d items.", items)
    return {"items": items}


def _failing_job(*, job):
    job.log("About to fail.")
    raise RuntimeError("disk on fire")


@pytest.fixture
def fake_jobs(monkeypatch):
    jobs = {
        "counting": schedules.Job("counting", "Counts.", "tests.scheduler.test_runner._counting_job", "5m", 60),
        "failing": schedules.Job("failing", "Fails.", "tests.scheduler.test_runner._failing_job", "5m", 60),
    }
    monkeypatch.setattr(schedules, "JOBS", {**schedules.JOBS, **jobs})
    return jobs


def test_a_run_records_counters_summary_log_and_duration(fake_jobs):
    progress = []
    run = job_run_now(
        name="counting", trigger=Trigger.COMMAND, params={"items": 4}, progress=lambda *a: progress.append(a)
    )
    assert run.status == RunStatus.SUCCEEDED
    assert (run.processed, run.succeeded, run.failed) == (4, 4, 0)
    assert run.summary == {"items": 4}
    assert "Counted 4 items." in run.log_tail
    assert run.duration_seconds is not None and run.started_at <= run.finished_at
    assert progress[-1] == (4, 4)
    assert not JobLock.objects.exists()


def test_a_failure_is_recorded_not_raised(fake_jobs):
    run = job_run_now(name="failing", trigger=Trigger.API)
    assert run.status == RunStatus.FAILED
    assert run.error == "RuntimeError: disk on fire"
    assert "About to fail." in run.log_tail
    assert not JobLock.objects.exists()


def test_enqueue_runs_through_the_queue(fake_jobs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = job_enqueue(name="counting", trigger=Trigger.API)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.task_id
    # Runs through the worker are a sign of life.
    assert WorkerHeartbeat.objects.exists()


def test_an_unknown_job_is_not_found():
    with pytest.raises(NotFound):
        job_enqueue(name="nope", trigger=Trigger.API)


def test_a_second_run_while_one_holds_the_lock_is_refused(fake_jobs):
    holder = JobRun.objects.create(
        job="counting", trigger=Trigger.API, status=RunStatus.RUNNING, started_at=timezone.now()
    )
    assert lock_acquire(name="counting", run=holder, ttl_seconds=600)
    with pytest.raises(Conflict):
        job_enqueue(name="counting", trigger=Trigger.API)
    with pytest.raises(Conflict):
        job_run_now(name="counting", trigger=Trigger.COMMAND)
    assert scheduled_entry("counting") is None


def test_a_queued_run_that_finds_the_lock_taken_does_not_start(fake_jobs):
    holder = JobRun.objects.create(
        job="counting", trigger=Trigger.API, status=RunStatus.RUNNING, started_at=timezone.now()
    )
    lock_acquire(name="counting", run=holder, ttl_seconds=600)
    queued = JobRun.objects.create(job="counting", trigger=Trigger.SCHEDULE)
    run = job_execute(queued.pk)
    assert run.status == RunStatus.CANCELLED
    assert "in progress" in run.error
    assert run.processed == 0


def test_an_expired_lock_is_taken_over():
    dead = JobRun.objects.create(job="cleanup", trigger=Trigger.API, status=RunStatus.RUNNING)
    JobLock.objects.create(
        name="cleanup",
        run=dead,
        owner="gone:1",
        acquired_at=timezone.now(),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    fresh = JobRun.objects.create(job="cleanup", trigger=Trigger.API)
    assert lock_acquire(name="cleanup", run=fresh, ttl_seconds=60)
    assert JobLock.objects.get(name="cleanup").run_id == fresh.pk


def test_runs_left_by_a_dead_worker_are_marked_failed_and_the_next_run_proceeds(fake_jobs):
    long_ago = timezone.now() - timedelta(hours=3)
    dead = JobRun.objects.create(job="counting", trigger=Trigger.SCHEDULE, status=RunStatus.RUNNING)
    JobRun.objects.filter(pk=dead.pk).update(started_at=long_ago, queued_at=long_ago)
    JobLock.objects.create(name="counting", run=dead, owner="gone:1", acquired_at=long_ago, expires_at=long_ago)
    assert runs_mark_stale() == 1
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED
    assert "Worker died" in dead.error
    assert job_run_now(name="counting", trigger=Trigger.API).status == RunStatus.SUCCEEDED


def test_a_cancelled_queued_run_never_starts(fake_jobs):
    run = JobRun.objects.create(job="counting", trigger=Trigger.API, cancel_requested=True)
    assert job_execute(run.pk).status == RunStatus.CANCELLED


def test_cleanup_deletes_only_old_finished_runs():
    old = timezone.now() - timedelta(days=200)
    stale_done = JobRun.objects.create(job="cleanup", trigger=Trigger.SCHEDULE, status=RunStatus.SUCCEEDED)
    recent = JobRun.objects.create(job="cleanup", trigger=Trigger.SCHEDULE, status=RunStatus.SUCCEEDED)
    JobRun.objects.filter(pk=stale_done.pk).update(queued_at=old)
    run = job_run_now(name="cleanup", trigger=Trigger.COMMAND)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.summary["job_runs_deleted"] == 1
    assert not JobRun.objects.filter(pk=stale_done.pk).exists()
    assert JobRun.objects.filter(pk=recent.pk).exists()
