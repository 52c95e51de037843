"""Actions on one download (retry, cancel, pause, resume, import, mark-failed) and ``downloads/sync/``.

Pause, resume and cancel-with-removal run against a real qbittorrent-nox.
"""

from __future__ import annotations

import time

import pytest
import torf

from downloads.integrations.qbittorrent import QbittorrentClient
from downloads.models import Download, DownloadStatus
from scheduler.models import JobRun
from tests.downloads.factories import DownloadFactory
from tests.downloads.qbittorrent_server import free_port, qbittorrent_server  # noqa: F401

pytestmark = pytest.mark.django_db

URL = "/api/v1/downloads/"
S = DownloadStatus


def post(client, download, action, payload=None):
    return client.post(f"{URL}{download.id}/{action}/", payload or {}, format="json")


def stored(download) -> Download:
    return Download.objects.get(pk=download.pk)


# --- state machine through the API (no client involved) -------------------------------------------


def test_retry_requeues_a_failed_download_and_logs_who_asked(editor_client):
    download = DownloadFactory(status=S.FAILED, retry_count=1, last_error="tracker down")

    response = post(editor_client, download, "retry")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "queued"
    assert body["next_retry_at"] is None
    assert body["transitions"][-1]["reason"] == "retry requested by editor"


@pytest.mark.parametrize("status", [S.QUEUED, S.DOWNLOADING, S.IMPORTED, S.ABANDONED])
def test_retry_of_a_download_that_did_not_fail_is_409(editor_client, status):
    download = DownloadFactory(status=status)

    response = post(editor_client, download, "retry")

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert response.json()["context"]["status"] == status
    assert stored(download).status == status


def test_an_api_key_is_named_by_its_prefix_in_the_log(api_key_client, editor_user):
    client = api_key_client(editor_user, scopes=("read", "write"))
    download = DownloadFactory(status=S.FAILED)

    body = post(client, download, "retry").json()

    assert body["transitions"][-1]["reason"].startswith("retry requested by api key ")


def test_mark_failed_schedules_a_retry_with_the_reason(editor_client):
    download = DownloadFactory(status=S.DOWNLOADING, retry_count=0, max_retries=3)

    body = post(editor_client, download, "mark-failed", {"reason": "wrong edition"}).json()

    assert body["status"] == "failed"
    assert body["retry_count"] == 1
    assert body["next_retry_at"] is not None
    assert "wrong edition" in body["last_error"]


def test_mark_failed_when_out_of_retries_abandons(editor_client):
    download = DownloadFactory(status=S.DOWNLOADING, retry_count=3, max_retries=3)

    body = post(editor_client, download, "mark-failed").json()

    assert body["status"] == "abandoned"
    assert [entry["to"] for entry in body["transitions"]] == ["failed", "abandoned"]


def test_mark_failed_of_an_imported_download_is_409(editor_client):
    download = DownloadFactory(status=S.IMPORTED)
    assert post(editor_client, download, "mark-failed").status_code == 409


def test_cancel_a_queued_download_without_touching_the_client(editor_client, settings):
    settings.QBITTORRENT_URL = ""  # the client is not needed for a torrent it never had
    download = DownloadFactory(status=S.QUEUED)

    body = post(editor_client, download, "cancel").json()

    assert body["status"] == "cancelled"


def test_cancel_validates_its_booleans(editor_client):
    download = DownloadFactory(status=S.QUEUED)

    response = post(editor_client, download, "cancel", {"remove_torrent": "perhaps"})

    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["body", "remove_torrent"]
    assert stored(download).status == S.QUEUED


@pytest.mark.parametrize(("status", "action"), [(S.QUEUED, "pause"), (S.DOWNLOADING, "resume"), (S.IMPORTED, "cancel")])
def test_illegal_transitions_are_409_and_change_nothing(editor_client, status, action):
    download = DownloadFactory(status=status)

    response = post(editor_client, download, action)

    assert response.status_code == 409
    assert stored(download).status == status
    assert stored(download).transitions == []


def test_import_of_a_download_that_failed_before_finishing_is_409(editor_client):
    download = DownloadFactory(status=S.FAILED, progress=0.4)
    response = post(editor_client, download, "import")
    assert response.status_code == 409
    assert "retry it instead" in response.json()["detail"]


def test_import_of_a_queued_download_is_409(editor_client):
    assert post(editor_client, DownloadFactory(status=S.QUEUED), "import").status_code == 409


def test_qbittorrent_unreachable_is_502_and_the_status_stays(editor_client, settings):
    settings.QBITTORRENT_URL = f"http://127.0.0.1:{free_port()}"
    settings.QBITTORRENT_TIMEOUT = 2
    download = DownloadFactory(status=S.DOWNLOADING)

    response = post(editor_client, download, "pause")

    assert response.status_code == 502
    assert response.json()["error"] == "external_api_error"
    assert stored(download).status == S.DOWNLOADING


def test_an_unknown_download_is_404(editor_client):
    assert editor_client.post(f"{URL}999999/retry/").status_code == 404


# --- against a real qBittorrent ------------------------------------------------------------------


def make_torrent(folder, name: str) -> bytes:
    path = folder / f"{name}.m4b"
    path.write_bytes(name.encode() * 4096)
    torrent = torf.Torrent(path=path, private=True, trackers=["http://127.0.0.1:9/announce"], created_by=None)
    torrent.generate()
    return torrent.dump()


def wait_until(check, seconds=15):
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not true within {seconds} s")
        time.sleep(0.2)


@pytest.fixture
def qbittorrent(settings, qbittorrent_server):  # noqa: F811
    settings.QBITTORRENT_URL = qbittorrent_server.url
    settings.QBITTORRENT_USERNAME = settings.QBITTORRENT_PASSWORD = ""
    return QbittorrentClient()


@pytest.fixture
def incomplete_torrent(qbittorrent, qbittorrent_server, tmp_path):  # noqa: F811
    """A torrent in qBittorrent whose data is elsewhere, so it stays downloading (no peers)."""
    data = make_torrent(tmp_path, f"book-{time.monotonic_ns()}")
    torrent_hash = qbittorrent.add_torrent(torrent_bytes=data, save_path=str(qbittorrent_server.save_path))
    wait_until(lambda: qbittorrent.torrent(torrent_hash) is not None)
    yield torrent_hash
    qbittorrent.delete(torrent_hash, delete_files=True)


@pytest.mark.integration
def test_pause_and_resume_reach_qbittorrent(editor_client, qbittorrent, incomplete_torrent):
    download = DownloadFactory(status=S.DOWNLOADING, info_hash=incomplete_torrent)

    paused = post(editor_client, download, "pause")

    assert paused.status_code == 200, paused.json()
    assert paused.json()["status"] == "paused"
    wait_until(lambda: qbittorrent.torrent(incomplete_torrent).state == "paused")

    resumed = post(editor_client, download, "resume")

    assert resumed.status_code == 200, resumed.json()
    assert resumed.json()["status"] == "downloading"
    wait_until(lambda: qbittorrent.torrent(incomplete_torrent).state != "paused")
    assert [entry["to"] for entry in resumed.json()["transitions"]] == ["paused", "downloading"]


@pytest.mark.integration
def test_cancel_with_removal_deletes_the_torrent_and_its_files(editor_client, qbittorrent, qbittorrent_server):  # noqa: F811
    name = f"seeded-{time.monotonic_ns()}"
    data = make_torrent(qbittorrent_server.save_path, name)
    torrent_hash = qbittorrent.add_torrent(torrent_bytes=data, save_path=str(qbittorrent_server.save_path))
    wait_until(lambda: qbittorrent.torrent(torrent_hash) is not None)
    download = DownloadFactory(status=S.DOWNLOADING, info_hash=torrent_hash)

    response = post(editor_client, download, "cancel", {"remove_torrent": True, "delete_files": True})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert "torrent and files removed" in response.json()["transitions"][-1]["reason"]
    wait_until(lambda: qbittorrent.torrent(torrent_hash) is None)
    wait_until(lambda: not (qbittorrent_server.save_path / f"{name}.m4b").exists())


@pytest.mark.integration
def test_cancel_without_removal_leaves_the_torrent_in_the_client(editor_client, qbittorrent, incomplete_torrent):
    download = DownloadFactory(status=S.DOWNLOADING, info_hash=incomplete_torrent)

    assert post(editor_client, download, "cancel").json()["status"] == "cancelled"

    assert qbittorrent.torrent(incomplete_torrent) is not None


# --- sync ------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_sync_with_wait_submits_queued_downloads_to_qbittorrent(editor_client, qbittorrent, tmp_path):
    data = make_torrent(tmp_path, f"queued-{time.monotonic_ns()}")
    from downloads.bencode import info_hash

    download = DownloadFactory(status=S.QUEUED, info_hash=info_hash(data), torrent_file=data)

    response = editor_client.post(f"{URL}sync/?wait=true")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["job"], body["trigger"], body["status"]) == ("download_monitor", "api", "succeeded")
    assert body["summary"]["submitted"] == [download.id]
    assert stored(download).status == S.DOWNLOADING
    assert qbittorrent.torrent(download.info_hash) is not None
    qbittorrent.delete(download.info_hash, delete_files=True)


def test_sync_queues_a_monitor_run(editor_client, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("scheduler.runner.async_task", lambda *args, **kwargs: "task-1")

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(f"{URL}sync/")

    assert response.status_code == 202, response.json()
    run = JobRun.objects.get()
    assert (run.job, run.status, run.requested_by.username) == ("download_monitor", "queued", "editor")
    assert response.json()["id"] == run.id

    again = editor_client.post(f"{URL}sync/")
    assert again.status_code == 409
