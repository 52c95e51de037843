"""``status/``, ``upcoming/``, ``configuration/`` and ``run-all/`` of ``/api/v1/scheduler/``."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from croniter import croniter
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule
from django_q.signing import SignedPackage

from scheduler import schedules
from scheduler.choices import RunStatus, Trigger
from scheduler.locks import lock_acquire
from scheduler.models import JobRun, WorkerHeartbeat
from scheduler.selectors import jobs_upcoming, redact_url
from scheduler.services import job_update

pytestmark = pytest.mark.django_db

BASE = "/api/v1/scheduler/"
ISO = "%Y-%m-%dT%H:%M:%S.%fZ"


def _iso(moment):
    return moment.strftime(ISO)


def _queue_task():
    payload = SignedPackage.dumps({"id": uuid4().hex, "name": "queued", "func": "math.floor"})
    return OrmQ.objects.create(key=Conf.CLUSTER_NAME, payload=payload, lock=timezone.now() - timedelta(seconds=1))


# --- status -----------------------------------------------------------------------------------


@pytest.fixture
def only_cleanup(monkeypatch):
    """The registry reduced to the always-enabled cleanup job (others depend on configuration)."""
    jobs = {"cleanup": schedules.JOBS["cleanup"]}
    monkeypatch.setattr(schedules, "JOBS", jobs)
    return jobs


def test_status_says_the_worker_is_alive_with_a_fresh_heartbeat(viewer_client, only_cleanup):
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker="fresh-host", seen_at=now - timedelta(seconds=30))
    WorkerHeartbeat.objects.create(worker="gone-host", seen_at=now - timedelta(hours=1))
    running = JobRun.objects.create(job="cleanup", trigger=Trigger.SCHEDULE, status=RunStatus.RUNNING, started_at=now)
    JobRun.objects.create(job="cleanup", trigger=Trigger.SCHEDULE, status=RunStatus.SUCCEEDED)
    _queue_task()
    _queue_task()

    body = viewer_client.get(f"{BASE}status/").json()

    assert body["worker_alive"] is True
    assert body["last_heartbeat"] == _iso(now - timedelta(seconds=30))
    assert [(w["worker"], w["alive"]) for w in body["workers"]] == [("fresh-host", True), ("gone-host", False)]
    assert body["queue_length"] == 2
    assert [run["id"] for run in body["running"]] == [running.pk]
    cleanup = Schedule.objects.get(name="cleanup")
    assert body["next_runs"] == [{"job": "cleanup", "at": _iso(cleanup.next_run)}]


def test_status_says_dead_after_two_heartbeat_intervals(viewer_client):
    stale = timezone.now() - timedelta(minutes=2 * schedules.HEARTBEAT_MINUTES, seconds=5)
    WorkerHeartbeat.objects.create(worker="slow-host", seen_at=stale)

    body = viewer_client.get(f"{BASE}status/").json()

    assert body["worker_alive"] is False
    assert body["last_heartbeat"] == _iso(stale)


def test_status_without_any_worker(viewer_client):
    body = viewer_client.get(f"{BASE}status/").json()

    assert (body["worker_alive"], body["last_heartbeat"], body["workers"]) == (False, None, [])
    assert body["queue_length"] == 0


def test_status_leaves_paused_jobs_out_of_the_next_runs(viewer_client, only_cleanup):
    job_update(name="cleanup", enabled=False)

    assert viewer_client.get(f"{BASE}status/").json()["next_runs"] == []


def test_an_unreachable_redis_broker_makes_the_queue_length_null_not_a_500(viewer_client, monkeypatch):
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:1/0")

    response = viewer_client.get(f"{BASE}status/")

    assert response.status_code == 200
    assert response.json()["queue_length"] is None


# --- upcoming ---------------------------------------------------------------------------------


def _next_one_am(after):
    return croniter("0 1 * * *", after).get_next(datetime)


def test_upcoming_lists_the_daily_cleanup_once_a_day(viewer_client, only_cleanup):
    now = timezone.now()
    first = _next_one_am(now)
    Schedule.objects.filter(name="cleanup").update(next_run=first)

    two_days = viewer_client.get(f"{BASE}upcoming/", {"hours": 48}).json()
    one_hour = viewer_client.get(f"{BASE}upcoming/", {"hours": 1}).json()

    assert two_days == [
        {"job": "cleanup", "at": _iso(first)},
        {"job": "cleanup", "at": _iso(first + timedelta(days=1))},
    ]
    # Whether 01:00 falls within the next hour depends on when the test runs.
    assert one_hour == ([{"job": "cleanup", "at": _iso(first)}] if first <= now + timedelta(hours=1) else [])


def test_upcoming_defaults_to_24_hours_and_skips_paused_jobs(viewer_client, only_cleanup):
    # The next 01:00 from now (the one synced when the test database was made may have passed).
    Schedule.objects.filter(name="cleanup").update(next_run=_next_one_am(timezone.now()))

    assert len(viewer_client.get(f"{BASE}upcoming/").json()) == 1
    job_update(name="cleanup", enabled=False)

    assert viewer_client.get(f"{BASE}upcoming/").json() == []


@pytest.mark.parametrize("hours", ["0", "169", "-1", "soon", "1.5"])
def test_upcoming_refuses_hours_outside_1_to_168(viewer_client, hours):
    response = viewer_client.get(f"{BASE}upcoming/", {"hours": hours})

    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["query", "hours"]


def test_upcoming_at_a_fixed_time_follows_the_cron():
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    Schedule.objects.filter(name="cleanup").update(next_run=datetime(2026, 3, 2, 1, 0, tzinfo=UTC))

    assert jobs_upcoming(hours=1, now=now) == []
    assert [item["at"].isoformat() for item in jobs_upcoming(hours=48, now=now)] == [
        "2026-03-02T01:00:00+00:00",
        "2026-03-03T01:00:00+00:00",
    ]


def test_an_overdue_run_shows_once_then_the_schedule_resumes_after_now():
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    job_update(name="cleanup", schedule="6h")
    Schedule.objects.filter(name="cleanup").update(next_run=datetime(2026, 3, 7, 3, 0, tzinfo=UTC))

    times = [item["at"].isoformat() for item in jobs_upcoming(hours=12, now=now)]

    # Overdue since the 7th; django-q2 (no catch-up) runs it once, then keeps the 03:00/09:00/... grid.
    assert times == ["2026-03-07T03:00:00+00:00", "2026-03-10T15:00:00+00:00", "2026-03-10T21:00:00+00:00"]


# --- configuration ----------------------------------------------------------------------------


def test_configuration_shows_the_queue_settings_and_schedule_sources(viewer_client, settings):
    settings.JOB_SCHEDULE_OVERRIDES = {"cleanup": "0 2 * * *"}
    job_update(name="cleanup", schedule="0 4 * * *")

    body = viewer_client.get(f"{BASE}configuration/").json()

    assert body["broker"] == "orm"
    assert body["sync"] is True
    assert body["catch_up"] is False
    assert (body["timeout"], body["retry"]) == (Conf.TIMEOUT, Conf.RETRY)
    assert body["job_history_days"] == settings.JOB_HISTORY_DAYS
    assert body["job_stale_grace_seconds"] == settings.JOB_STALE_GRACE_SECONDS
    cleanup = next(job for job in body["jobs"] if job["name"] == "cleanup")
    assert cleanup == {
        "name": "cleanup",
        "default_schedule": "0 1 * * *",
        "env_schedule": "0 2 * * *",
        "api_schedule": "0 4 * * *",
        "schedule": "0 4 * * *",
        "schedule_source": "api",
        "enabled": True,
        "timeout_seconds": 1800,
    }


def test_configuration_never_shows_the_redis_password(viewer_client, monkeypatch):
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://queue:hunter2@redis.internal:6379/1")

    response = viewer_client.get(f"{BASE}configuration/")

    assert response.json()["broker"] == "redis"
    assert response.json()["broker_location"] == "redis://queue:***@redis.internal:6379/1"
    assert "hunter2" not in response.content.decode()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@host:6379/0", "redis://:***@host:6379/0"),
        ("redis://user@host/0", "redis://***@host/0"),
        (
            "rediss://host:6380/0?password=s3cret&ssl_cert_reqs=none",
            "rediss://host:6380/0?password=***&ssl_cert_reqs=none",
        ),
        ("redis://host:6379/0", "redis://host:6379/0"),
    ],
)
def test_urls_are_redacted(url, shown):
    assert redact_url(url) == shown


# --- run-all ----------------------------------------------------------------------------------


def test_run_all_queues_every_enabled_job_for_admins(
    admin_client, admin_user, django_capture_on_commit_callbacks, only_cleanup
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{BASE}run-all/")

    assert response.status_code == 202
    body = response.json()
    assert [run["job"] for run in body["queued"]] == list(schedules.JOBS)
    assert all(run["status"] == "queued" and run["requested_by"] == admin_user.username for run in body["queued"])
    assert body["skipped"] == []
    run = JobRun.objects.get(pk=body["queued"][0]["id"])
    assert (run.trigger, run.status) == (Trigger.API, RunStatus.SUCCEEDED)


def test_run_all_skips_paused_and_running_jobs(admin_client, monkeypatch, only_cleanup):
    extra = schedules.Job("extra", "Extra.", "scheduler.jobs.cleanup_run", "5m", 60)
    monkeypatch.setattr(schedules, "JOBS", {**schedules.JOBS, "extra": extra})
    job_update(name="cleanup", enabled=False)
    holder = JobRun.objects.create(job="extra", trigger=Trigger.API, status=RunStatus.RUNNING)
    lock_acquire(name="extra", run=holder, ttl_seconds=600)

    body = admin_client.post(f"{BASE}run-all/").json()

    assert body["queued"] == []
    assert body["skipped"] == [{"job": "cleanup", "reason": "disabled"}, {"job": "extra", "reason": "running"}]


def test_run_all_is_for_admins_only(editor_client, viewer_client, api_client):
    assert editor_client.post(f"{BASE}run-all/").status_code == 403
    assert viewer_client.post(f"{BASE}run-all/").status_code == 403
    assert api_client.post(f"{BASE}run-all/").status_code == 401
    assert not JobRun.objects.exists()


def test_run_all_counts_against_the_admin_tier(admin_client, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "admin": "7/minute"}

    response = admin_client.post(f"{BASE}run-all/")

    assert response["X-RateLimit-Limit"] == "7"


@pytest.mark.parametrize("path", ["status/", "upcoming/", "configuration/"])
def test_viewers_read_and_anonymous_are_refused(viewer_client, api_client, path):
    assert viewer_client.get(f"{BASE}{path}").status_code == 200
    response = api_client.get(f"{BASE}{path}")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
