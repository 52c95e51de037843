"""``/api/v1/scheduler/runs/``: run history with filters and ordering, one run, cancelling a run."""

from datetime import timedelta

import pytest
from django.utils import timezone

from scheduler.choices import RunStatus, Trigger
from scheduler.models import JobRun

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/scheduler/runs/"


def make_run(*, job="cleanup", trigger=Trigger.SCHEDULE, status=RunStatus.SUCCEEDED, ago_minutes=0, **fields):
    """A run queued ``ago_minutes`` ago (``queued_at`` is set on insert, so it is moved after)."""
    run = JobRun.objects.create(job=job, trigger=trigger, status=status, **fields)
    if ago_minutes:
        queued_at = timezone.now() - timedelta(minutes=ago_minutes)
        JobRun.objects.filter(pk=run.pk).update(queued_at=queued_at)
        run.queued_at = queued_at
    return run


def _ids(response):
    assert response.status_code == 200, response.json()
    return [run["id"] for run in response.json()["results"]]


def test_the_list_is_newest_first_with_the_jobrun_fields(viewer_client, editor_user):
    old = make_run(ago_minutes=60, processed=3, succeeded=2, failed=1, summary={"x": 1})
    new = make_run(trigger=Trigger.API, requested_by=editor_user, request_id="req-1", log_tail="secret-ish lines")

    response = viewer_client.get(RUNS)

    assert _ids(response) == [new.pk, old.pk]
    body = response.json()
    assert body["count"] == 2
    first, second = body["results"]
    assert {
        "id",
        "job",
        "trigger",
        "status",
        "queued_at",
        "started_at",
        "finished_at",
        "duration_seconds",
        "processed",
        "succeeded",
        "failed",
        "skipped",
        "summary",
        "error",
        "request_id",
        "requested_by",
        "task_id",
        "cancel_requested",
    } <= set(first)
    assert "log_tail" not in first and "params" not in first
    assert (first["requested_by"], first["request_id"]) == ("editor", "req-1")
    assert (second["processed"], second["succeeded"], second["failed"], second["summary"]) == (3, 2, 1, {"x": 1})
    assert second["requested_by"] is None
    assert first["queued_at"].endswith("Z")


def test_retrieve_adds_the_log_tail_and_params(viewer_client):
    run = make_run(log_tail="01:00:00 INFO hello", params={"items": 4}, error="")

    body = viewer_client.get(f"{RUNS}{run.pk}/").json()

    assert (body["log_tail"], body["params"]) == ("01:00:00 INFO hello", {"items": 4})


def test_an_unknown_or_malformed_run_id(viewer_client):
    assert viewer_client.get(f"{RUNS}999999/").status_code == 404
    response = viewer_client.get(f"{RUNS}0/")
    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"][0] == "path"


def test_runs_filter_by_job_status_and_trigger(viewer_client):
    wanted = make_run(job="cleanup", status=RunStatus.FAILED, trigger=Trigger.API)
    make_run(job="cleanup", status=RunStatus.SUCCEEDED, trigger=Trigger.API)
    make_run(job="other", status=RunStatus.FAILED, trigger=Trigger.API)
    cancelled = make_run(job="cleanup", status=RunStatus.CANCELLED, trigger=Trigger.ADMIN)

    assert _ids(viewer_client.get(RUNS, {"job": "cleanup", "status": "failed", "trigger": "api"})) == [wanted.pk]
    both = viewer_client.get(RUNS, {"job": "cleanup", "status": ["failed", "cancelled"]})
    assert set(_ids(both)) == {wanted.pk, cancelled.pk}
    assert _ids(viewer_client.get(RUNS, {"trigger": "admin"})) == [cancelled.pk]


def test_runs_filter_by_queued_and_started_dates(viewer_client):
    now = timezone.now()
    old = make_run(ago_minutes=3 * 24 * 60, started_at=now - timedelta(days=3))
    recent = make_run(ago_minutes=10, started_at=now - timedelta(minutes=9))
    never_started = make_run(status=RunStatus.CANCELLED)

    day_ago = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert set(_ids(viewer_client.get(RUNS, {"queued_after": day_ago}))) == {recent.pk, never_started.pk}
    assert _ids(viewer_client.get(RUNS, {"queued_before": day_ago})) == [old.pk]
    assert _ids(viewer_client.get(RUNS, {"started_after": day_ago})) == [recent.pk]
    assert _ids(viewer_client.get(RUNS, {"started_before": day_ago})) == [old.pk]
    # A plain date means midnight UTC.
    tomorrow = (now + timedelta(days=1)).date().isoformat()
    assert len(_ids(viewer_client.get(RUNS, {"queued_before": tomorrow}))) == 3


def test_runs_order_by_duration_and_start_with_unknown_values_last(viewer_client):
    now = timezone.now()
    short = make_run(duration_seconds=1.0, started_at=now - timedelta(minutes=5))
    long = make_run(duration_seconds=90.0, started_at=now - timedelta(minutes=50))
    unknown = make_run(status=RunStatus.QUEUED)

    assert _ids(viewer_client.get(RUNS, {"ordering": "duration"})) == [short.pk, long.pk, unknown.pk]
    assert _ids(viewer_client.get(RUNS, {"ordering": "-duration"})) == [long.pk, short.pk, unknown.pk]
    assert _ids(viewer_client.get(RUNS, {"ordering": "started_at"})) == [long.pk, short.pk, unknown.pk]
    assert _ids(viewer_client.get(RUNS, {"ordering": "queued_at"})) == [short.pk, long.pk, unknown.pk]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"status": "exploded"}, ["query", "status"]),
        ({"trigger": "cron"}, ["query", "trigger"]),
        ({"queued_after": "yesterday"}, ["query", "queued_after"]),
        ({"started_before": "2026-13-45"}, ["query", "started_before"]),
        ({"ordering": "error"}, ["query", "ordering"]),
    ],
)
def test_bad_filter_values_are_422_at_the_query_parameter(viewer_client, params, loc):
    response = viewer_client.get(RUNS, params)

    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == loc


def test_search_looks_in_the_error_and_request_id(viewer_client):
    failed = make_run(status=RunStatus.FAILED, error="ConnectionError: qbittorrent refused")
    traced = make_run(request_id="req-abc123")

    assert _ids(viewer_client.get(RUNS, {"search": "qbittorrent"})) == [failed.pk]
    assert _ids(viewer_client.get(RUNS, {"search": "req-abc"})) == [traced.pk]


def test_cancelling_a_queued_run_cancels_it(editor_client):
    run = make_run(status=RunStatus.QUEUED)

    response = editor_client.post(f"{RUNS}{run.pk}/cancel/")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancel_requested"]) == ("cancelled", True)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.finished_at is not None


def test_cancelling_a_running_run_asks_it_to_stop(editor_client):
    run = make_run(status=RunStatus.RUNNING, started_at=timezone.now())

    response = editor_client.post(f"{RUNS}{run.pk}/cancel/")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancel_requested"]) == ("running", True)


def test_cancelling_a_finished_run_is_a_409(editor_client):
    run = make_run(status=RunStatus.SUCCEEDED)

    response = editor_client.post(f"{RUNS}{run.pk}/cancel/")

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    run.refresh_from_db()
    assert not run.cancel_requested


def test_a_viewer_cannot_cancel_and_anonymous_cannot_read(viewer_client, api_client):
    run = make_run(status=RunStatus.QUEUED)

    assert viewer_client.post(f"{RUNS}{run.pk}/cancel/").status_code == 403
    assert api_client.get(RUNS).status_code == 401
    assert api_client.get(f"{RUNS}{run.pk}/").status_code == 401
    assert api_client.post(f"{RUNS}{run.pk}/cancel/").status_code == 401
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
