"""download_monitor (SPEC §8.3, §8.5, §8.6): following qBittorrent, importing, and hostile names."""

from __future__ import annotations

import os
import threading
import time

import pytest
import torf
from django.db import connection, connections

from downloads.actions import download_retry
from downloads.integrations.qbittorrent import QbittorrentClient
from downloads.models import Download, DownloadStatus
from downloads.monitor import MonitorReport, downloads_import, downloads_poll, downloads_submit, downloads_sync
from tests.downloads.qbittorrent_server import qbittorrent_server  # noqa: F401
from tests.library.audio import write_mp3

pytestmark = pytest.mark.django_db

S = DownloadStatus


@pytest.fixture
def library(tmp_path, settings):
    root = tmp_path / "library"
    root.mkdir()
    settings.LIBRARY_ROOT = str(root)
    settings.LIBRARY_TEMPLATE = "{author}/{series}/{position} - {title}"
    settings.DOWNLOAD_PATH_MAP = {}
    settings.ABS_URL = settings.ABS_API_KEY = ""
    return root


@pytest.fixture
def client_settings(settings, tmp_path, qbittorrent_server):  # noqa: F811
    save_path = qbittorrent_server.save_path / f"monitor-{tmp_path.name}"
    save_path.mkdir()
    settings.QBITTORRENT_URL = qbittorrent_server.url
    settings.QBITTORRENT_SAVE_PATH = str(save_path)
    settings.QBITTORRENT_CATEGORY = f"monitor-{tmp_path.name}"[:60]
    return save_path


def complete_torrent(save_path, name: str) -> bytes:
    folder = save_path / name
    write_mp3(folder / "01.mp3", tags={"TALB": name, "TPE1": "Ursula K. Le Guin"})
    torrent = torf.Torrent(path=folder, private=True, trackers=["http://127.0.0.1:9/announce"], created_by=None)
    torrent.generate()
    return torrent.dump()


def queued(data: bytes, title: str) -> Download:
    from downloads.acquisition import download_from_upload

    return download_from_upload(data=data, title=title)[0]


def wait_until(download_id: int, status: str, seconds: float = 20) -> Download:
    deadline = time.monotonic() + seconds
    while True:
        downloads_sync()
        download = Download.objects.get(pk=download_id)
        if download.status == status or time.monotonic() > deadline:
            return download
        time.sleep(0.3)


@pytest.mark.integration
def test_a_queued_upload_is_submitted_with_category_and_tags_and_imported(library, client_settings):
    download = queued(complete_torrent(client_settings, "The Dispossessed"), "The Dispossessed")

    download = wait_until(download.pk, S.IMPORTED)

    assert download.status == S.IMPORTED, download.last_error
    status = QbittorrentClient().torrent(download.info_hash)
    assert status.category.startswith("monitor-") and set(status.tags) == {"mamcrawler", "manual"}
    assert (library / "Ursula K. Le Guin" / "The Dispossessed" / "01.mp3").is_file()
    assert download.book.title == "The Dispossessed"


@pytest.mark.integration
def test_a_torrent_removed_from_the_client_fails_with_a_retry_and_the_retry_adds_it_again(library, client_settings):
    download = queued(complete_torrent(client_settings, "The Lathe of Heaven"), "The Lathe of Heaven")
    client = QbittorrentClient()
    downloads_submit(client=client, report=MonitorReport(), worker="w1")
    download.refresh_from_db()
    assert download.status == S.DOWNLOADING
    client.delete(download.info_hash)

    downloads_poll(client=client, report=MonitorReport())

    download.refresh_from_db()
    assert download.status == S.FAILED and "no longer has" in download.last_error and download.next_retry_at
    download_retry(download=download)
    download = wait_until(download.pk, S.IMPORTED)
    assert download.status == S.IMPORTED and client.torrent(download.info_hash) is not None


def test_an_import_that_fails_schedules_a_retry(library, tmp_path):
    download = Download.objects.create(
        title="Gone", info_hash="c" * 40, status=S.COMPLETED, content_path=str(tmp_path / "nothing-here"), progress=1
    )
    report = MonitorReport()

    downloads_import(report=report, worker="w1")

    download.refresh_from_db()
    assert download.status == S.FAILED and download.last_error.startswith("Import failed")
    assert download.next_retry_at is not None and report.failed == [download.pk]
    assert [t["to"] for t in download.transitions] == [S.IMPORTING, S.FAILED]


def test_hostile_names_from_a_torrent_stay_under_the_library_root(library, tmp_path):
    source = tmp_path / "downloads" / ".." / "downloads" / "evil"
    write_mp3(source / "01.mp3")  # no tags: the names below are all the import has
    download = Download.objects.create(
        title="../../../../etc/cron.d/evil",
        author="../..",
        info_hash="d" * 40,
        status=S.COMPLETED,
        content_path=str(source),
        progress=1,
    )

    downloads_import(report=MonitorReport(), worker="w1")

    download.refresh_from_db()
    assert download.status == S.IMPORTED, download.last_error
    placed = [path for file in download.book.files.all() for path in [os.path.realpath(file.path)]]
    assert placed and all(path.startswith(os.path.realpath(library) + os.sep) for path in placed)
    assert not os.path.exists("/etc/cron.d/evil")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_workers_monitoring_at_once_submit_and_import_each_download_once(library, client_settings):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent workers need PostgreSQL row locks; SQLite serialises writers")
    ids = [queued(complete_torrent(client_settings, f"Book {n}"), f"Book {n}").pk for n in range(4)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait(timeout=10)
            # qBittorrent checks the four torrents in a few seconds, longer on a loaded machine.
            deadline = time.monotonic() + 45
            while time.monotonic() < deadline:
                downloads_sync()
                if all(d.status == S.IMPORTED for d in Download.objects.filter(pk__in=ids)):
                    return
                time.sleep(0.3)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert not errors
    for download in Download.objects.filter(pk__in=ids):
        steps = [t["to"] for t in download.transitions]
        assert download.status == S.IMPORTED, download.last_error
        assert steps.count(S.SUBMITTING) == 1 and steps.count(S.IMPORTING) == 1, steps
    assert Download.objects.count() == 4


def test_mam_details_name_the_book_when_the_files_have_no_tags(library, tmp_path):
    source = tmp_path / "downloads" / "wellofascension"
    write_mp3(source / "01.mp3")
    download = Download.objects.create(
        title="The Well of Ascension",
        author="Brandon Sanderson",
        info_hash="f" * 40,
        status=S.COMPLETED,
        content_path=str(source),
        progress=1,
        mam_details={
            "authors": ["Brandon Sanderson"],
            "narrators": ["Michael Kramer"],
            "series": [["Mistborn", "2"]],
            "format": "mp3",
            "language": "ENG",
        },
    )

    downloads_import(report=MonitorReport(), worker="w1")

    download.refresh_from_db()
    book = download.book
    assert download.status == S.IMPORTED, download.last_error
    assert [n.name for n in book.narrators.all()] == ["Michael Kramer"]
    entry = book.series_entries.get()
    assert (entry.series.name, entry.position_label) == ("Mistborn", "2")
    assert (library / "Brandon Sanderson" / "Mistborn" / "02 - The Well of Ascension" / "01.mp3").is_file()
