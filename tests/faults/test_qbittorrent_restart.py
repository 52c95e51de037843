"""qBittorrent killed (SIGKILL, no clean shutdown) while a download is being followed.

The monitor run while it is down fails with a readable error and leaves the download where
it was; after the restart the monitor carries on, and the book is imported exactly once
from exactly one torrent in the client.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
import qbittorrentapi
from django.utils import timezone

from downloads.models import Download, DownloadStatus
from library.models import Book, BookFile
from library.models_gaps import GapStatus
from scheduler.choices import RunStatus
from tests.downloads import mam_fake
from tests.downloads.qbittorrent_server import restartable_qbittorrent  # noqa: F401
from tests.downloads.test_end_to_end import (
    configure,
    monitor_until,
    run,
    seeded_torrent,
    series_gap,
    serve_account,
    serve_search,
    serve_torrent,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

S = DownloadStatus


def client_for(server) -> qbittorrentapi.Client:
    return qbittorrentapi.Client(host=server.url, REQUESTS_ARGS={"timeout": 5})


def resume_files(root, info_hash: str) -> list:
    """The files qBittorrent keeps a torrent in across restarts (``BT_backup/<hash>.*``)."""
    return list(root.rglob(f"BT_backup/{info_hash}.*"))


@pytest.mark.parametrize("resume_data", ["kept", "lost"])
def test_qbittorrent_killed_while_downloading_loses_nothing_and_imports_once(
    tmp_path,
    settings,
    httpserver,
    restartable_qbittorrent,  # noqa: F811
    resume_data,
):
    library, save_path = configure(tmp_path, settings, httpserver, restartable_qbittorrent.server)
    settings.QBITTORRENT_TIMEOUT = 2
    gap = series_gap("Edgedancer", "2.5")
    serve_account(httpserver)
    serve_search(httpserver, mam_fake.row(501, "Edgedancer", series=(("The Stormlight Archive", "2.5"),), free=1))
    data = seeded_torrent(save_path, "Edgedancer", narrator="Kate Reading", series="The Stormlight Archive", part="2.5")
    serve_torrent(httpserver, 501, data)
    # The data is not there yet: the torrent stays downloading (no peers) until it "arrives".
    (save_path / "Edgedancer").rename(tmp_path / "Edgedancer.incoming")
    assert run("acquire_wanted").status == RunStatus.SUCCEEDED
    download = monitor_until(S.DOWNLOADING, Download.objects.get().pk)
    deadline = time.monotonic() + 15
    while len(resume_files(restartable_qbittorrent.root, download.info_hash)) < 2:
        assert time.monotonic() < deadline, "qBittorrent never saved the torrent's resume data"
        time.sleep(0.1)

    os.kill(restartable_qbittorrent.server.pid, signal.SIGKILL)
    restartable_qbittorrent.stop()
    if resume_data == "lost":  # killed before it wrote them: the client forgets the torrent
        for path in resume_files(restartable_qbittorrent.root, download.info_hash):
            path.unlink()
    down = run("download_monitor")

    assert down.status == RunStatus.FAILED and down.error.startswith("qBittorrent: ")
    assert "Traceback" not in down.error + down.log_tail
    download.refresh_from_db()
    assert download.status == S.DOWNLOADING and download.last_error == ""

    (tmp_path / "Edgedancer.incoming").rename(save_path / "Edgedancer")  # finished while the client was down
    server = restartable_qbittorrent.start()
    client = client_for(server)
    if resume_data == "kept":
        deadline = time.monotonic() + 15
        while not (torrents := client.torrents_info(torrent_hashes=download.info_hash)) or torrents[0].state in (
            "checkingResumeData",
            "checkingDL",
            "checkingUP",
        ):
            assert time.monotonic() < deadline, "qBittorrent did not load the torrent again"
            time.sleep(0.2)
        if torrents[0].progress < 1:
            client.torrents_recheck(torrent_hashes=download.info_hash)  # stands in for the peers bringing the data
    else:
        missing = run("download_monitor")
        download.refresh_from_db()
        assert download.status == S.FAILED and download.last_error == "qBittorrent no longer has this torrent."
        assert missing.failed == 1 and download.next_retry_at is not None
        Download.objects.filter(pk=download.pk).update(next_retry_at=timezone.now() - timedelta(seconds=1))
        assert run("download_retry").summary["requeued"] == [download.pk]
    download = monitor_until(S.IMPORTED, download.pk)
    again = run("download_monitor")

    assert again.status == RunStatus.SUCCEEDED, again.error
    torrents = client.torrents_info(category=settings.QBITTORRENT_CATEGORY)
    assert [torrent.hash for torrent in torrents] == [download.info_hash]  # in the client once
    steps = [step["to"] for step in download.transitions]
    assert steps.count(S.SUBMITTING) == (1 if resume_data == "kept" else 2) and steps.count(S.IMPORTED) == 1
    assert Download.objects.count() == 1 and Book.objects.count() == 1  # imported once
    book = Book.objects.get()
    assert download.book == book and BookFile.objects.filter(book=book).count() == 1
    gap.refresh_from_db()
    assert gap.status == GapStatus.COMPLETED and gap.resolved_book == book
    assert [path.name for path in library.rglob("*.m4b")] == ["Edgedancer.m4b"]
