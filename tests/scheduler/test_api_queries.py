"""Scheduler lists issue the same number of queries for 3 runs as for 30 (SPEC §12)."""

import pytest
from django.utils import timezone

from mamcrawler.api.throttling import TieredThrottleMixin
from scheduler import schedules
from scheduler.choices import RunStatus, Trigger
from scheduler.models import JobRun
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROWS = [3, 30]


@pytest.fixture(autouse=True)
def without_throttle_counter(monkeypatch):
    """Leave the throttle out of the counts: its counter upsert is per request, not per row."""
    monkeypatch.setattr(TieredThrottleMixin, "get_throttles", lambda self: [])


@pytest.fixture
def many_jobs(monkeypatch):
    """Three more declared jobs, so the job list is not a list of one."""
    extra = {
        name: schedules.Job(name, f"{name}.", "scheduler.jobs.cleanup_run", "15m", 600)
        for name in ("alpha", "beta", "gamma")
    }
    monkeypatch.setattr(schedules, "JOBS", {**schedules.JOBS, **extra})
    return list(schedules.JOBS)


def make_runs(count, names):
    users = UserFactory.create_batch(2)
    statuses = [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.QUEUED, RunStatus.RUNNING]
    JobRun.objects.bulk_create(
        JobRun(
            job=names[index % len(names)],
            trigger=Trigger.API,
            status=statuses[index % len(statuses)],
            started_at=timezone.now(),
            duration_seconds=index,
            requested_by=users[index % 2],
        )
        for index in range(count)
    )


@pytest.mark.parametrize("rows", ROWS)
def test_the_run_list_takes_two_queries(viewer_client, django_assert_num_queries, rows):
    make_runs(rows, ["cleanup", "other"])
    # 1 COUNT of runs, 2 the page of runs joined with the requesting user.
    with django_assert_num_queries(2):
        response = viewer_client.get("/api/v1/scheduler/runs/", {"limit": 50})
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_the_filtered_and_ordered_run_list_takes_two_queries(viewer_client, django_assert_num_queries, rows):
    make_runs(rows * 4, ["cleanup"])
    params = {"job": "cleanup", "status": "failed", "trigger": "api", "ordering": "-duration", "limit": 50}
    # 1 COUNT of the matching runs, 2 the page joined with the requesting user.
    with django_assert_num_queries(2):
        response = viewer_client.get("/api/v1/scheduler/runs/", params)
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_the_job_list_takes_four_queries(viewer_client, django_assert_num_queries, many_jobs, rows):
    make_runs(rows, many_jobs)
    # 1 the jobs' settings (JobSetting), 2 their django-q2 schedules (next run),
    # 3 the latest run of each job (one scalar subquery per job, one statement),
    # 4 which jobs run: live locks UNION fresh queued runs.
    with django_assert_num_queries(4):
        response = viewer_client.get("/api/v1/scheduler/jobs/")
    results = response.json()["results"]
    assert len(results) == len(many_jobs)
    assert sum(job["last_run"] is not None for job in results) == min(rows, len(many_jobs))


@pytest.mark.parametrize("rows", ROWS)
def test_one_job_takes_four_queries(viewer_client, django_assert_num_queries, rows):
    make_runs(rows, ["cleanup"])
    # The same four queries as the list, for one job.
    with django_assert_num_queries(4):
        response = viewer_client.get("/api/v1/scheduler/jobs/cleanup/")
    assert response.json()["last_run"]["id"] == JobRun.objects.filter(job="cleanup").latest("queued_at", "id").pk
