"""Scheduler admin: run history, schedule edits that re-sync, "Run now" and cancelling runs."""

from uuid import uuid4

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule, Task

from scheduler.choices import RunStatus, Trigger
from scheduler.locks import lock_acquire
from scheduler.models import JobRun, JobSetting
from scheduler.services import HEARTBEAT_NAME
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_staff=True, is_superuser=True, role="admin")


@pytest.fixture
def site(client, superuser):
    client.force_login(superuser)
    return client


def _task(*, success):
    now = timezone.now()
    return Task.objects.create(
        id=uuid4().hex, name=f"cleanup#{uuid4().hex[:4]}", func="x.y", started=now, stopped=now, success=success
    )


def _messages(response):
    return [str(message) for message in response.context["messages"]]


def test_the_run_list_links_each_run_to_its_django_q_task(site):
    done = JobRun.objects.create(job="cleanup", trigger=Trigger.API, task_id=_task(success=True).id)
    broken = JobRun.objects.create(job="cleanup", trigger=Trigger.API, task_id=_task(success=False).id)
    JobRun.objects.create(job="cleanup", trigger=Trigger.API, task_id="not-kept-anymore")

    page = site.get(reverse("admin:scheduler_jobrun_changelist")).content.decode()

    assert reverse("admin:django_q_success_change", args=[done.task_id]) in page
    assert reverse("admin:django_q_failure_change", args=[broken.task_id]) in page
    assert "not-kept-anymore" in page
    detail = site.get(reverse("admin:scheduler_jobrun_change", args=[done.pk]))
    assert detail.status_code == 200
    assert reverse("admin:django_q_success_change", args=[done.task_id]) in detail.content.decode()


def test_runs_are_read_only_in_the_admin(site):
    run = JobRun.objects.create(job="cleanup", trigger=Trigger.API, error="boom")

    assert site.get(reverse("admin:scheduler_jobrun_add")).status_code == 403
    site.post(reverse("admin:scheduler_jobrun_change", args=[run.pk]), {"job": "changed", "error": ""})
    run.refresh_from_db()
    assert (run.job, run.error) == ("cleanup", "boom")


@pytest.mark.parametrize("query", [{"status__exact": "failed"}, {"trigger__exact": "api"}, {"job": "cleanup"}])
def test_the_run_list_filters_and_searches(site, query):
    JobRun.objects.create(job="cleanup", trigger=Trigger.API, status=RunStatus.FAILED, request_id="req-zz")

    assert site.get(reverse("admin:scheduler_jobrun_changelist"), query).status_code == 200
    assert site.get(reverse("admin:scheduler_jobrun_changelist"), {"q": "req-zz"}).status_code == 200


def test_the_cancel_action_cancels_queued_runs_and_reports_finished_ones(site):
    queued = JobRun.objects.create(job="cleanup", trigger=Trigger.API)
    finished = JobRun.objects.create(job="cleanup", trigger=Trigger.API, status=RunStatus.SUCCEEDED)

    response = site.post(
        reverse("admin:scheduler_jobrun_changelist"),
        {"action": "cancel_runs", "_selected_action": [queued.pk, finished.pk]},
        follow=True,
    )

    queued.refresh_from_db()
    finished.refresh_from_db()
    assert queued.status == RunStatus.CANCELLED
    assert finished.status == RunStatus.SUCCEEDED
    assert "1 run(s) had already finished." in _messages(response)


def test_the_schedule_changelist_is_ours_and_opens(site):
    response = site.get(reverse("admin:django_q_schedule_changelist"))

    assert response.status_code == 200
    assert "Run now" in response.content.decode()


def test_run_now_queues_our_jobs_and_skips_the_rest(site, superuser, django_capture_on_commit_callbacks):
    cleanup = Schedule.objects.get(name="cleanup")
    heartbeat = Schedule.objects.get(name=HEARTBEAT_NAME)

    with django_capture_on_commit_callbacks(execute=True):
        response = site.post(
            reverse("admin:django_q_schedule_changelist"),
            {"action": "run_now", "_selected_action": [cleanup.pk, heartbeat.pk]},
            follow=True,
        )

    run = JobRun.objects.get()
    assert (run.job, run.trigger, run.requested_by) == ("cleanup", Trigger.ADMIN, superuser)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    messages = _messages(response)
    assert f"Queued cleanup (run {run.pk})." in messages
    assert f"Skipped {HEARTBEAT_NAME} (not a declared job)." in messages


def test_run_now_reports_a_job_that_is_already_running(site):
    holder = JobRun.objects.create(job="cleanup", trigger=Trigger.API, status=RunStatus.RUNNING)
    lock_acquire(name="cleanup", run=holder, ttl_seconds=600)

    response = site.post(
        reverse("admin:django_q_schedule_changelist"),
        {"action": "run_now", "_selected_action": [Schedule.objects.get(name="cleanup").pk]},
        follow=True,
    )

    assert "Skipped cleanup (already running)." in _messages(response)
    assert JobRun.objects.count() == 1


def test_editing_a_job_setting_resyncs_its_schedule(site, superuser):
    response = site.post(
        reverse("admin:scheduler_jobsetting_add"), {"name": "cleanup", "schedule": "6h", "enabled": ""}
    )

    assert response.status_code == 302
    schedule = Schedule.objects.get(name="cleanup")
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 360)
    assert JobSetting.objects.get(name="cleanup").updated_by == superuser

    site.post(reverse("admin:scheduler_jobsetting_change", args=["cleanup"]), {"schedule": "", "enabled": "false"})

    schedule.refresh_from_db()
    assert (schedule.cron, schedule.repeats) == ("0 1 * * *", 0)


def test_a_bad_schedule_is_a_form_error(site):
    response = site.post(reverse("admin:scheduler_jobsetting_add"), {"name": "cleanup", "schedule": "sometimes"})

    assert response.status_code == 200
    assert "neither a cron expression" in response.content.decode()
    assert not JobSetting.objects.exists()


def test_deleting_a_job_setting_restores_the_default_schedule(site):
    site.post(reverse("admin:scheduler_jobsetting_add"), {"name": "cleanup", "schedule": "off", "enabled": ""})
    assert Schedule.objects.get(name="cleanup").repeats == 0

    site.post(reverse("admin:scheduler_jobsetting_delete", args=["cleanup"]), {"post": "yes"})

    assert not JobSetting.objects.exists()
    assert Schedule.objects.get(name="cleanup").repeats == -1
