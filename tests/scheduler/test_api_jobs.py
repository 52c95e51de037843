"""``/api/v1/scheduler/jobs/``: the declared jobs, schedule changes, pause/resume and running a job."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from scheduler import schedules
from scheduler.choices import RunStatus, Trigger
from scheduler.locks import lock_acquire
from scheduler.models import JobRun, JobSetting
from scheduler.services import schedules_sync

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/scheduler/jobs/"
CLEANUP = f"{JOBS}cleanup/"


def _slow_job(*, job):
    job.log("Did nothing slowly.")
    return {"done": True}


@pytest.fixture
def fake_job(monkeypatch):
    job = schedules.Job("fake", "A fake job.", "tests.scheduler.test_api_jobs._slow_job", "5m", 60)
    monkeypatch.setattr(schedules, "JOBS", {**schedules.JOBS, "fake": job})
    return job


def _hold_lock(name):
    holder = JobRun.objects.create(job=name, trigger=Trigger.API, status=RunStatus.RUNNING, started_at=timezone.now())
    assert lock_acquire(name=name, run=holder, ttl_seconds=600)
    return holder


def test_the_list_shows_every_declared_job_in_the_page_shape(viewer_client):
    response = viewer_client.get(JOBS)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == len(schedules.JOBS)
    cleanup = next(job for job in body["results"] if job["name"] == "cleanup")
    assert cleanup["schedule"] == "0 1 * * *"
    assert cleanup["schedule_source"] == "default"
    assert cleanup["enabled"] is True
    assert cleanup["condition_ok"] is True
    assert cleanup["timeout_seconds"] == 1800
    assert cleanup["next_run"] == Schedule.objects.get(name="cleanup").next_run.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert cleanup["last_run"] is None
    assert cleanup["running"] is False


def test_a_job_shows_its_latest_run_and_whether_it_runs(viewer_client):
    older = JobRun.objects.create(job="cleanup", trigger=Trigger.SCHEDULE, status=RunStatus.FAILED)
    newer = JobRun.objects.create(
        job="cleanup", trigger=Trigger.API, status=RunStatus.SUCCEEDED, finished_at=timezone.now(), duration_seconds=2.5
    )
    JobRun.objects.filter(pk=older.pk).update(queued_at=timezone.now() - timedelta(hours=1))

    job = viewer_client.get(CLEANUP).json()

    assert job["last_run"]["id"] == newer.pk
    assert (job["last_run"]["status"], job["last_run"]["trigger"]) == ("succeeded", "api")
    assert job["last_run"]["duration_seconds"] == 2.5
    assert job["last_run"]["finished_at"].endswith("Z")
    assert job["running"] is False

    _hold_lock("cleanup")
    assert viewer_client.get(CLEANUP).json()["running"] is True


def test_a_queued_run_counts_as_running_until_it_is_stale(viewer_client, settings):
    run = JobRun.objects.create(job="cleanup", trigger=Trigger.API)
    assert viewer_client.get(CLEANUP).json()["running"] is True

    long_ago = timezone.now() - timedelta(seconds=1800 + settings.JOB_STALE_GRACE_SECONDS + 5)
    JobRun.objects.filter(pk=run.pk).update(queued_at=long_ago)
    assert viewer_client.get(CLEANUP).json()["running"] is False


def test_an_unknown_job_is_a_404_in_the_error_shape(viewer_client, editor_client):
    response = viewer_client.get(f"{JOBS}nope/")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert response.json()["detail"] == "Job not found: nope"
    assert editor_client.post(f"{JOBS}nope/run/").status_code == 404
    assert editor_client.patch(f"{JOBS}nope/", {"enabled": False}).status_code == 404


def test_patch_changes_the_schedule_and_a_resync_keeps_it(editor_client, editor_user):
    response = editor_client.patch(CLEANUP, {"schedule": "30 5 * * *"})

    assert response.status_code == 200, response.json()
    assert (response.json()["schedule"], response.json()["schedule_source"]) == ("30 5 * * *", "api")
    schedules_sync()
    assert Schedule.objects.get(name="cleanup").cron == "30 5 * * *"
    assert JobSetting.objects.get(name="cleanup").updated_by == editor_user
    assert editor_client.get(CLEANUP).json()["schedule"] == "30 5 * * *"


def test_patch_accepts_an_interval_and_blank_goes_back_to_the_default(editor_client):
    assert editor_client.patch(CLEANUP, {"schedule": "6h"}).json()["schedule"] == "6h"
    assert Schedule.objects.get(name="cleanup").minutes == 360

    job = editor_client.patch(CLEANUP, {"schedule": ""}).json()

    assert (job["schedule"], job["schedule_source"]) == ("0 1 * * *", "default")
    assert Schedule.objects.get(name="cleanup").cron == "0 1 * * *"


def test_patch_off_disables_the_job(editor_client):
    job = editor_client.patch(CLEANUP, {"schedule": "off"}).json()

    assert (job["schedule"], job["enabled"], job["next_run"]) == ("off", False, None)
    assert Schedule.objects.get(name="cleanup").repeats == 0


@pytest.mark.parametrize("value", ["sometimes", "0 3 * *", "99 99 * * *", "0m"])
def test_patch_refuses_a_bad_schedule_with_422(editor_client, value):
    response = editor_client.patch(CLEANUP, {"schedule": value})

    assert response.status_code == 422
    errors = response.json()["context"]["validation_errors"]
    assert [error["loc"] for error in errors] == [["body", "schedule"]]
    assert Schedule.objects.get(name="cleanup").cron == "0 1 * * *"


def test_patch_refuses_a_non_boolean_enabled(editor_client):
    response = editor_client.patch(CLEANUP, {"enabled": "perhaps"})

    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["body", "enabled"]


def test_pause_and_resume_flip_the_schedule_repeats(editor_client):
    paused = editor_client.post(f"{CLEANUP}pause/")

    assert paused.status_code == 200
    assert (paused.json()["enabled"], paused.json()["next_run"]) == (False, None)
    assert Schedule.objects.get(name="cleanup").repeats == 0

    resumed = editor_client.post(f"{CLEANUP}resume/")

    assert resumed.status_code == 200
    assert resumed.json()["enabled"] is True
    assert resumed.json()["next_run"] is not None
    assert Schedule.objects.get(name="cleanup").repeats == -1


def test_run_answers_202_with_the_queued_run_which_then_succeeds(
    editor_client, editor_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(f"{CLEANUP}run/", HTTP_X_REQUEST_ID="req-run-1")

    assert response.status_code == 202
    queued = response.json()
    assert (queued["job"], queued["status"], queued["trigger"]) == ("cleanup", "queued", "api")
    assert queued["requested_by"] == editor_user.username
    assert queued["request_id"] == "req-run-1"
    assert queued["started_at"] is None
    later = editor_client.get(f"/api/v1/scheduler/runs/{queued['id']}/").json()
    assert later["status"] == "succeeded", later["error"]
    assert later["task_id"]
    assert later["summary"]["job_runs_deleted"] == 0


def test_run_with_wait_answers_200_with_the_finished_run(editor_client, fake_job):
    response = editor_client.post(f"{JOBS}fake/run/?wait=true")

    assert response.status_code == 200
    run = response.json()
    assert (run["status"], run["trigger"], run["summary"]) == ("succeeded", "api", {"done": True})
    assert "Did nothing slowly." in run["log_tail"]
    assert run["duration_seconds"] is not None


def test_run_refuses_with_409_while_the_job_holds_its_lock(editor_client):
    _hold_lock("cleanup")

    for url in (f"{CLEANUP}run/", f"{CLEANUP}run/?wait=true"):
        response = editor_client.post(url)
        assert response.status_code == 409
        assert response.json()["error"] == "conflict"
    assert JobRun.objects.filter(job="cleanup").count() == 1


def test_run_refuses_a_bad_wait_value(editor_client):
    response = editor_client.post(f"{CLEANUP}run/?wait=maybe")

    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["query", "wait"]


def test_a_viewer_reads_jobs_but_cannot_change_or_run_them(viewer_client):
    assert viewer_client.get(JOBS).status_code == 200
    assert viewer_client.get(CLEANUP).status_code == 200
    for response in (
        viewer_client.patch(CLEANUP, {"enabled": False}),
        viewer_client.post(f"{CLEANUP}run/"),
        viewer_client.post(f"{CLEANUP}pause/"),
        viewer_client.post(f"{CLEANUP}resume/"),
    ):
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"
    assert not JobRun.objects.exists()
    assert Schedule.objects.get(name="cleanup").repeats == -1


def test_jobs_need_credentials(api_client):
    for response in (api_client.get(JOBS), api_client.get(CLEANUP), api_client.post(f"{CLEANUP}run/")):
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"


def test_a_read_api_key_cannot_run_a_job(api_key_client, admin_user):
    client = api_key_client(admin_user, scopes=("read",))

    assert client.get(JOBS).status_code == 200
    assert client.post(f"{CLEANUP}run/").status_code == 403


@pytest.mark.parametrize(
    "path",
    ["", "jobs/", "jobs/cleanup/", "runs/", "runs/{run}/", "status/", "upcoming/", "configuration/"],
)
def test_the_browsable_api_renders_for_an_admin_session(client, admin_user, path):
    run = JobRun.objects.create(job="cleanup", trigger=Trigger.API)
    client.force_login(admin_user)

    response = client.get(f"/api/v1/scheduler/{path.format(run=run.pk)}", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
