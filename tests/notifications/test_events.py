"""Events reach their targets: imports, failed jobs, subscriptions, digests, an expired MAM session."""

from __future__ import annotations

import json
import logging

import pytest

from downloads.models import Download, DownloadStatus, MamSession
from downloads.monitor import MonitorReport, downloads_import
from notifications.events import notify
from notifications.models import Delivery, Target
from scheduler import schedules
from scheduler.choices import Trigger
from scheduler.runner import job_run_now
from tests.library.audio import write_mp3

pytestmark = pytest.mark.django_db


def _collect(httpserver, path):
    """Bodies POSTed to ``path``."""
    bodies = []

    def handler(request):
        from werkzeug import Response

        bodies.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request(path, method="POST").respond_with_handler(handler)
    return bodies


def _two_events_job(*, job):
    notify("gaps_found", {"gaps_new": 2})
    notify("download_held", {"title": "Dune", "reason": "ratio"})
    return {}


def _failing_job(*, job):
    raise RuntimeError("disk on fire")


@pytest.fixture
def fake_jobs(monkeypatch):
    jobs = {
        "two_events": schedules.Job("two_events", ".", "tests.notifications.test_events._two_events_job", "5m", 60),
        "failing": schedules.Job("failing", ".", "tests.notifications.test_events._failing_job", "5m", 60),
    }
    monkeypatch.setattr(schedules, "JOBS", {**schedules.JOBS, **jobs})


def test_an_imported_book_is_announced_to_a_webhook_and_an_apprise_target(
    httpserver, webhook, send, settings, tmp_path
):
    settings.LIBRARY_ROOT = str(tmp_path / "library")
    settings.LIBRARY_TEMPLATE = "{author}/{title}"
    settings.DOWNLOAD_PATH_MAP = {}
    settings.ABS_URL = settings.ABS_API_KEY = ""
    (tmp_path / "library").mkdir()
    folder = tmp_path / "done" / "The Dispossessed"
    write_mp3(folder / "01.mp3", tags={"TALB": "The Dispossessed", "TPE1": "Ursula K. Le Guin"})
    download = Download.objects.create(
        title="The Dispossessed", info_hash="a" * 40, status=DownloadStatus.COMPLETED, content_path=str(folder)
    )
    hooked, apprised = _collect(httpserver, "/hook"), _collect(httpserver, "/apprise")
    hook = webhook(events=["book_imported"])
    apprise = Target.objects.create(
        name="apprise", kind="apprise", url=f"json://127.0.0.1:{httpserver.port}/apprise", events=["book_imported"]
    )

    with send():
        downloads_import(report=MonitorReport(), worker="w")

    download.refresh_from_db()
    assert download.status == DownloadStatus.IMPORTED, download.last_error
    (body,) = hooked
    assert body["event"] == "book_imported"
    assert body["data"]["book_id"] == download.book_id and body["data"]["download_id"] == download.pk
    assert body["data"]["title"] == "The Dispossessed" and body["data"]["authors"] == ["Ursula K. Le Guin"]
    (message,) = apprised
    assert "Imported The Dispossessed by Ursula K. Le Guin" in message["message"]
    statuses = dict(Delivery.objects.values_list("target_id", "status"))
    assert statuses == {hook.pk: "delivered", apprise.pk: "delivered"}


def test_a_failing_job_run_emits_job_failed(httpserver, webhook, send, fake_jobs):
    bodies = _collect(httpserver, "/hook")
    webhook(events=["job_failed"])

    with send():
        run = job_run_now(name="failing", trigger=Trigger.API)

    assert run.status == "failed"
    (body,) = bodies
    assert body["event"] == "job_failed"
    assert body["data"] == {"job": "failing", "job_run_id": run.pk, "trigger": "api", "error": run.error}


def test_targets_only_get_the_events_they_subscribe_to_and_disabled_ones_nothing(webhook, send, httpserver):
    _collect(httpserver, "/a")
    _collect(httpserver, "/b")
    everything = webhook("/a")
    only_jobs = webhook("/b", events=["job_failed"])
    webhook("/c", enabled=False)

    with send():
        assert notify("gaps_found", {"gaps_new": 1}) == 1
        assert notify("job_failed", {"job": "x"}) == 2

    assert sorted(Delivery.objects.values_list("target_id", "event")) == sorted(
        [(everything.pk, "gaps_found"), (everything.pk, "job_failed"), (only_jobs.pk, "job_failed")]
    )


def test_notify_never_raises_and_logs_what_went_wrong(webhook, caplog):
    webhook()

    assert notify("no_such_event", {}) == 0

    assert "no_such_event" in caplog.text and not Delivery.objects.exists()


def test_a_digest_target_gets_one_message_per_job_run(httpserver, webhook, send, fake_jobs):
    digest_bodies, plain_bodies = _collect(httpserver, "/digest"), _collect(httpserver, "/plain")
    digest = webhook("/digest", digest=True)
    webhook("/plain")

    with send():
        run = job_run_now(name="two_events", trigger=Trigger.API)

    assert [body["event"] for body in plain_bodies] == ["gaps_found", "download_held"]
    (body,) = digest_bodies
    assert body["event"] == "digest"
    assert body["data"]["job_run_id"] == run.pk and body["data"]["job"] == "two_events"
    assert [part["event"] for part in body["data"]["events"]] == ["gaps_found", "download_held"]
    parts = Delivery.objects.filter(target=digest).exclude(event="digest")
    assert {part.status for part in parts} == {"delivered"} and parts.count() == 2


def test_an_event_outside_a_job_run_goes_to_a_digest_target_at_once(httpserver, webhook, send):
    bodies = _collect(httpserver, "/digest")
    webhook("/digest", digest=True)

    with send():
        notify("mam_session_expired", {"reason": "HTTP 403"})

    assert [body["event"] for body in bodies] == ["mam_session_expired"]


def test_an_expired_mam_session_is_announced_once_not_per_request(webhook, send, settings, httpserver):
    from downloads.integrations.mam import MamClient

    _collect(httpserver, "/hook")
    settings.MAM_SESSION_ID = "cookie-value"
    webhook()
    client = MamClient(base_url="http://127.0.0.1:9")

    with send():
        client._expired("HTTP 403 on search", 403)
        client._expired("HTTP 403 on search", 403)

    assert MamSession.objects.get().expired
    assert list(Delivery.objects.values_list("event", flat=True)) == ["mam_session_expired"]


def test_the_secret_never_reaches_the_log(httpserver, webhook, send, caplog):
    caplog.set_level(logging.DEBUG)
    httpserver.expect_request("/hook").respond_with_data("no", status=500)
    webhook(secret="very-secret-value-123")

    with send():
        notify("job_failed", {"job": "x"})

    assert "job_failed" in caplog.text  # the attempt was logged
    assert "very-secret-value-123" not in caplog.text


def test_an_unreachable_integration_is_announced_once_an_hour(settings):
    import socket

    from mamcrawler.system.integrations import integrations_check

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MAM_SESSION_ID = settings.ABS_URL = settings.ABS_API_KEY = ""
    settings.METADATA_PROVIDERS = []
    settings.QBITTORRENT_URL = f"http://127.0.0.1:{port}"
    settings.INTEGRATION_CHECK_TIMEOUT = 1.0
    Target.objects.create(name="ops", kind="webhook", url="http://127.0.0.1:9/", events=["integration_down"])

    integrations_check()
    integrations_check()

    (delivery,) = Delivery.objects.all()
    assert delivery.event == "integration_down" and delivery.payload["data"]["integration"] == "qbittorrent"


def test_a_download_the_guard_holds_is_announced_with_the_reason():
    from downloads.acquisition import _guarded
    from downloads.guard import GuardDecision

    Target.objects.create(name="ops", kind="webhook", url="http://127.0.0.1:9/", events=["download_held"])
    download = Download.objects.create(title="Dune", info_hash="b" * 40, status=DownloadStatus.QUEUED)

    _guarded(download, GuardDecision(cost="ratio", allowed=False, hold_reason="ratio would fall below 1.5"), True)

    (delivery,) = Delivery.objects.all()
    data = delivery.payload["data"]
    assert delivery.event == "download_held" and data["download_id"] == download.pk
    assert data["reason"] == "ratio would fall below 1.5" and data["status"] == "held"
