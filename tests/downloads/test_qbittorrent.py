"""The qBittorrent client against a real qbittorrent-nox (tests/downloads/qbittorrent_server.py)."""

from __future__ import annotations

import time

import pytest
import requests
import torf

from downloads.integrations.qbittorrent import QbittorrentClient, info_hash, map_state
from mamcrawler.api.exceptions import AppValidationError, ExternalApiError
from tests.downloads.qbittorrent_server import free_port, qbittorrent_auth_server, qbittorrent_server  # noqa: F401

pytestmark = pytest.mark.integration


def make_torrent(folder, name: str) -> bytes:
    """A private single-file torrent for a file written into ``folder`` (so it is complete on add)."""
    path = folder / f"{name}.m4b"
    path.write_bytes(name.encode() * 4096)
    torrent = torf.Torrent(path=path, private=True, trackers=["http://127.0.0.1:9/announce"], created_by=None)
    torrent.generate()
    return torrent.dump()


def wait_for(client, torrent_hash, state, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        status = client.torrent(torrent_hash)
        if status is not None and status.state == state:
            return status
        if time.monotonic() > deadline:
            pytest.fail(f"{torrent_hash} did not reach {state!r} in {seconds} s: {status}")
        time.sleep(0.2)


@pytest.fixture
def client(qbittorrent_server):  # noqa: F811
    return QbittorrentClient(qbittorrent_server.url, username="", password="", category="audiobooks", timeout=5)


# --- state mapping (no client needed) ---------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "progress", "expected"),
    [
        ("downloading", 0.5, "downloading"),
        ("stalledDL", 0.5, "downloading"),
        ("metaDL", 0, "downloading"),
        ("forcedMetaDL", 0, "downloading"),
        ("queuedDL", 0, "downloading"),
        ("checkingDL", 0.3, "downloading"),
        ("forcedDL", 0.3, "downloading"),
        ("uploading", 1, "completed"),
        ("stalledUP", 1, "completed"),
        ("queuedUP", 1, "completed"),
        ("checkingUP", 1, "completed"),
        ("forcedUP", 1, "completed"),
        ("pausedUP", 1, "completed"),
        ("stoppedUP", 1, "completed"),
        ("pausedUP", 0.9, "paused"),
        ("stoppedUP", 0.9, "paused"),
        ("pausedDL", 0.2, "paused"),
        ("stoppedDL", 0.2, "paused"),
        ("error", 0.2, "failed"),
        ("missingFiles", 1, "failed"),
        ("checkingResumeData", 0, "checking"),
        ("moving", 1, "completed"),
        ("moving", 0.5, "downloading"),
        ("unknown", 0, "unknown"),
        ("somethingNew", 1, "unknown"),
    ],
)
def test_it_maps_every_raw_state(raw, progress, expected):
    assert map_state(raw, progress) == expected


def test_it_computes_the_info_hash_from_the_bytes(tmp_path):
    (tmp_path / "x.m4b").write_bytes(b"x" * 1000)
    torrent = torf.Torrent(path=tmp_path / "x.m4b", comment="keys after info count too")
    torrent.generate()
    assert info_hash(torrent.dump()) == torrent.infohash


def test_it_rejects_bytes_that_are_not_a_torrent():
    for garbage in (b"", b"<html>login</html>", b"d4:infoi1ee", b"d3:foo3:bare", b"d4:info"):
        with pytest.raises(AppValidationError):
            info_hash(garbage)


# --- against the real client -------------------------------------------------------------------
def test_it_reports_the_version(client):
    assert client.version().startswith("v")


def test_it_adds_a_complete_torrent_once_with_category_and_tags(client, qbittorrent_server):  # noqa: F811
    data = make_torrent(qbittorrent_server.save_path, "book-one")
    torrent_hash = client.add_torrent(
        torrent_bytes=data, save_path=str(qbittorrent_server.save_path), tags=("mamcrawler", "gap")
    )
    assert torrent_hash == info_hash(data)

    status = wait_for(client, torrent_hash, "completed")
    assert status.progress == 1
    assert status.state_raw in {"stalledUP", "uploading", "queuedUP", "pausedUP", "stoppedUP"}
    assert status.category == "audiobooks"
    assert set(status.tags) == {"mamcrawler", "gap"}
    assert status.size == len(b"book-one") * 4096
    assert status.content_path.endswith("book-one.m4b")

    # The same bytes again: not an error, the same hash, still one torrent.
    assert client.add_torrent(torrent_bytes=data, save_path=str(qbittorrent_server.save_path)) == torrent_hash
    assert [t.hash for t in client.torrents()].count(torrent_hash) == 1
    assert client.torrents(category="elsewhere") == []


def test_it_pauses_resumes_and_deletes(client, qbittorrent_server):  # noqa: F811
    data = make_torrent(qbittorrent_server.save_path, "book-two")
    torrent_hash = client.add_torrent(torrent_bytes=data, save_path=str(qbittorrent_server.save_path), tags=["manual"])
    wait_for(client, torrent_hash, "completed")

    client.pause(torrent_hash)
    status = wait_for(client, torrent_hash, "completed")  # a stopped, complete torrent is still completed
    deadline = time.monotonic() + 10
    while status.state_raw not in {"pausedUP", "stoppedUP"} and time.monotonic() < deadline:
        time.sleep(0.2)
        status = client.torrent(torrent_hash)
    assert status.state_raw in {"pausedUP", "stoppedUP"}

    client.resume(torrent_hash)
    deadline = time.monotonic() + 10
    while status.state_raw in {"pausedUP", "stoppedUP"} and time.monotonic() < deadline:
        time.sleep(0.2)
        status = client.torrent(torrent_hash)
    assert status.state_raw not in {"pausedUP", "stoppedUP"}
    assert status.state == "completed"

    client.delete(torrent_hash)
    deadline = time.monotonic() + 10
    while client.torrent(torrent_hash) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.torrent(torrent_hash) is None
    assert (qbittorrent_server.save_path / "book-two.m4b").exists()  # delete_files=False keeps the files


def test_it_pauses_an_incomplete_torrent_as_paused(client, qbittorrent_server, tmp_path):  # noqa: F811
    # The file exists only outside the save path, so the torrent has nothing and cannot download (no peers).
    data = make_torrent(tmp_path, "book-three")
    torrent_hash = client.add_torrent(torrent_bytes=data, save_path=str(qbittorrent_server.save_path))
    wait_for(client, torrent_hash, "downloading")
    client.pause(torrent_hash)
    assert wait_for(client, torrent_hash, "paused").progress < 1
    client.delete(torrent_hash, delete_files=True)


# --- faults ------------------------------------------------------------------------------------
def test_connection_refused_is_retryable():
    client = QbittorrentClient(f"http://127.0.0.1:{free_port()}", username="", password="", timeout=2)
    with pytest.raises(ExternalApiError) as caught:
        client.version()
    assert caught.value.service == "qBittorrent"
    assert caught.value.retryable is True
    assert "cannot reach" in str(caught.value.detail)


def test_a_wrong_password_is_not_retryable(qbittorrent_auth_server):  # noqa: F811
    client = QbittorrentClient(qbittorrent_auth_server.url, username="mamcrawler", password="wrong", timeout=5)
    with pytest.raises(ExternalApiError) as caught:
        client.version()
    assert caught.value.retryable is False
    assert "QBITTORRENT_USERNAME/PASSWORD" in str(caught.value.detail)


def test_no_credentials_where_login_is_required_is_not_retryable(qbittorrent_auth_server):  # noqa: F811
    client = QbittorrentClient(qbittorrent_auth_server.url, username="", password="", timeout=5)
    with pytest.raises(ExternalApiError) as caught:
        client.torrents()
    assert caught.value.retryable is False


def test_a_dropped_session_is_logged_in_again(qbittorrent_auth_server):  # noqa: F811
    server = qbittorrent_auth_server
    client = QbittorrentClient(server.url, username=server.username, password=server.password, timeout=5)
    assert client.version().startswith("v")
    # Forget the session server-side, as a qBittorrent restart does.
    sid = client._api._http_session.cookies.get("SID")
    requests.post(f"{server.url}/api/v2/auth/logout", cookies={"SID": sid}, timeout=5)
    assert requests.get(f"{server.url}/api/v2/app/version", cookies={"SID": sid}, timeout=5).status_code == 403
    assert client.torrents() == []
