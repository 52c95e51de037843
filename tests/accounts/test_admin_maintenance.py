"""``/api/v1/admin/maintenance/cleanup/`` (the cleanup job) and ``/api/v1/admin/cache/clear/``."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.utils import timezone

from library.models import ProviderCache
from mamcrawler.audit.models import AuditLog
from scheduler.choices import RunStatus, Trigger
from scheduler.models import JobRun

pytestmark = pytest.mark.django_db

CLEANUP = "/api/v1/admin/maintenance/cleanup/"
CLEAR = "/api/v1/admin/cache/clear/"


def test_cleanup_queues_the_job_and_answers_202(admin_client, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(CLEANUP, HTTP_X_REQUEST_ID="req-cleanup-1")

    assert response.status_code == 202
    queued = response.json()
    assert (queued["job"], queued["status"], queued["trigger"]) == ("cleanup", "queued", "api")
    assert queued["requested_by"] == admin_user.username
    assert queued["request_id"] == "req-cleanup-1"
    assert JobRun.objects.get(pk=queued["id"]).status == RunStatus.SUCCEEDED
    entry = AuditLog.objects.get()
    assert (entry.action, entry.object_type, entry.object_id) == (
        "admin/maintenance.cleanup",
        "scheduler.jobrun",
        str(queued["id"]),
    )


def test_cleanup_with_wait_answers_200_with_the_finished_run(admin_client):
    old = JobRun.objects.create(job="cleanup", trigger=Trigger.API, status=RunStatus.SUCCEEDED)
    JobRun.objects.filter(pk=old.pk).update(queued_at=timezone.now() - timedelta(days=400))

    response = admin_client.post(f"{CLEANUP}?wait=true")

    assert response.status_code == 200
    run = response.json()
    assert run["status"] == "succeeded" and run["summary"]["job_runs_deleted"] == 1
    assert run["finished_at"] is not None


def test_cleanup_refuses_a_bad_wait_and_non_admins(admin_client, editor_client):
    assert admin_client.post(f"{CLEANUP}?wait=maybe").status_code == 422
    assert editor_client.post(CLEANUP).status_code == 403


def _provider_row(key):
    now = timezone.now()
    return ProviderCache.objects.create(
        provider="openlibrary",
        key=key,
        payload={},
        fetched_at=now - timedelta(minutes=5),
        expires_at=now + timedelta(days=1),
    )


def test_clear_empties_the_default_cache_but_keeps_counters_and_provider_answers(admin_client):
    caches["default"].set("greeting", "hello")
    caches["counters"].set("throttle:test", 3)
    _provider_row("isbn:1")

    response = admin_client.post(CLEAR)

    assert response.status_code == 200
    assert response.json() == {"cleared": ["default"], "provider_entries_deleted": None}
    assert caches["default"].get("greeting") is None
    assert caches["counters"].get("throttle:test") == 3
    assert ProviderCache.objects.count() == 1


def test_clear_with_providers_also_deletes_the_provider_cache(admin_client):
    _provider_row("isbn:1")
    _provider_row("isbn:2")

    response = admin_client.post(f"{CLEAR}?providers=true")

    assert response.status_code == 200
    assert response.json() == {"cleared": ["default", "providers"], "provider_entries_deleted": 2}
    assert not ProviderCache.objects.exists()


def test_clear_is_for_admins_only(editor_client, admin_client):
    assert editor_client.post(CLEAR).status_code == 403
    assert admin_client.post(f"{CLEAR}?providers=perhaps").status_code == 422
