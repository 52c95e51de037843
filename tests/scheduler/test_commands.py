"""Job commands: run_job and cleanup run a job inline, report it, and fail loudly."""

import os
import signal
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from scheduler import schedules
from scheduler.choices import RunStatus, Trigger
from scheduler.models import JobLock, JobRun

pytestmark = pytest.mark.django_db


def _counting_job(*, job, items=3, label="items"):
    for index in range(items):
        job.count(processed=1, succeeded=1)
        job.progress(index + 1, items)
    return {label: items}


def _failing_job(*, job):
    job.log("About to fail.")
    raise RuntimeError("disk on fire")


def _self_terminating_job(*, job):
    """Sends this process SIGTERM, then works until the cancellation reaches it (or 10 s)."""
    os.kill(os.getpid(), signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job.check_cancelled()
        time.sleep(0.05)
    return {"cancelled": False}


@pytest.fixture
def fake_jobs(monkeypatch):
    jobs = {
        "counting": schedules.Job("counting", "Counts.", "tests.scheduler.test_commands._counting_job", "5m", 60),
        "failing": schedules.Job("failing", "Fails.", "tests.scheduler.test_commands._failing_job", "5m", 60),
        "terminating": schedules.Job(
            "terminating", "SIGTERMs itself.", "tests.scheduler.test_commands._self_terminating_job", "5m", 60
        ),
    }
    monkeypatch.setattr(schedules, "JOBS", {**schedules.JOBS, **jobs})
    return jobs


class TTY(StringIO):
    def isatty(self):
        return True


def _run(*args, stdout=None):
    out = stdout or StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_run_job_records_a_command_run_and_prints_a_one_line_summary():
    output = _run("run_job", "cleanup")

    run = JobRun.objects.get()
    assert (run.job, run.trigger, run.status) == ("cleanup", Trigger.COMMAND, RunStatus.SUCCEEDED)
    lines = output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"cleanup #{run.pk} succeeded in ")
    assert "processed=0 succeeded=0 failed=0 skipped=0" in lines[0]
    assert 'summary={"job_runs_deleted":0,' in lines[0]  # compact JSON


def test_cleanup_command_deletes_old_runs():
    old = JobRun.objects.create(job="cleanup", trigger=Trigger.SCHEDULE, status=RunStatus.SUCCEEDED)
    JobRun.objects.filter(pk=old.pk).update(queued_at=timezone.now() - timedelta(days=400))

    output = _run("cleanup")

    assert not JobRun.objects.filter(pk=old.pk).exists()
    run = JobRun.objects.get()
    assert run.trigger == Trigger.COMMAND
    assert "processed=1 succeeded=1" in output
    assert '"job_runs_deleted":1' in output


def test_an_unknown_job_is_refused_with_the_list_of_jobs():
    with pytest.raises(CommandError, match=r"Unknown job 'nope'\. Declared jobs: .*cleanup"):
        _run("run_job", "nope")
    assert not JobRun.objects.exists()


def test_a_failed_run_prints_its_summary_and_exits_non_zero(fake_jobs):
    out = StringIO()
    with pytest.raises(CommandError, match="failing #\\d+ failed: RuntimeError: disk on fire") as caught:
        _run("run_job", "failing", stdout=out)

    assert caught.value.returncode == 1
    run = JobRun.objects.get()
    assert (run.status, run.trigger) == (RunStatus.FAILED, Trigger.COMMAND)
    assert out.getvalue().startswith(f"failing #{run.pk} failed in ")


def test_a_job_that_is_already_running_is_refused(fake_jobs):
    holder = JobRun.objects.create(job="counting", trigger=Trigger.API, status=RunStatus.RUNNING)
    JobLock.objects.create(
        name="counting",
        run=holder,
        owner="elsewhere:1",
        acquired_at=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=5),
    )

    with pytest.raises(CommandError, match="already running"):
        _run("run_job", "counting")
    assert JobRun.objects.count() == 1


def test_params_reach_the_job_as_json_values_or_text(fake_jobs):
    output = _run("run_job", "counting", "--param", "items=4", "--param", "label=done")

    run = JobRun.objects.get()
    assert run.params == {"items": 4, "label": "done"}
    assert (run.processed, run.summary) == (4, {"done": 4})
    assert 'summary={"done":4}' in output


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("colour=red", "does not take colour; it takes: items, label"),
        ("items", "--param expects KEY=VALUE"),
        ("=4", "--param expects KEY=VALUE"),
    ],
)
def test_bad_params_are_refused_before_a_run_is_recorded(fake_jobs, param, message):
    with pytest.raises(CommandError, match=message):
        _run("run_job", "counting", "--param", param)
    assert not JobRun.objects.exists()


def test_a_terminal_gets_a_progress_bar(fake_jobs):
    output = _run("run_job", "counting", "--param", "items=5", stdout=TTY())

    assert "5/5" in output and "100%" in output
    assert output.rstrip().splitlines()[-1].startswith("counting #")


def test_no_progress_bar_when_output_is_not_a_terminal(fake_jobs):
    output = _run("run_job", "counting", "--param", "items=5")

    assert "%" not in output
    assert len(output.strip().splitlines()) == 1


@pytest.mark.django_db(transaction=True)
def test_sigterm_cancels_the_run_at_its_next_check(fake_jobs):
    before = signal.getsignal(signal.SIGTERM)
    out = StringIO()

    with pytest.raises(CommandError, match="cancelled: Cancelled while running"):
        _run("run_job", "terminating", stdout=out)

    run = JobRun.objects.get()
    assert run.cancel_requested
    assert run.status == RunStatus.CANCELLED
    assert out.getvalue().startswith(f"terminating #{run.pk} cancelled in ")
    assert run.duration_seconds < 8  # stopped by the request, not by the job's own deadline
    assert signal.getsignal(signal.SIGTERM) is before
    assert not JobLock.objects.exists()
