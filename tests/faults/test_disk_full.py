"""The disk filling up while a finished download is imported.

The import leaves no partial file under LIBRARY_ROOT, the download ends ``failed`` with a
retry scheduled and an error naming the disk, and once there is space again the retry
goes through the normal path (requeue → the client already has the torrent → import):
one torrent in the client, one book.
"""

from __future__ import annotations

import errno
import os
import shutil
from datetime import timedelta

import pytest
from django.utils import timezone

from downloads.models import Download, DownloadStatus
from library.models import Book
from library.models_gaps import GapStatus
from scheduler.choices import RunStatus
from tests.downloads import mam_fake
from tests.downloads.qbittorrent_server import qbittorrent_server  # noqa: F401
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
from tests.faults.test_qbittorrent_restart import client_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

S = DownloadStatus


def disk_full(monkeypatch) -> None:
    """Every hardlink and copy into the library fails with ENOSPC (a copy after writing half a file)."""

    def link(src, dst, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    def copy(src, dst, **kwargs):
        with open(dst, "wb") as handle:
            handle.write(b"half a file")
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(os, "link", link)
    monkeypatch.setattr(shutil, "copy2", copy)


def files_under(path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def test_a_full_disk_fails_the_import_with_a_retry_and_the_retry_imports_once(
    tmp_path,
    settings,
    httpserver,
    monkeypatch,
    qbittorrent_server,  # noqa: F811
):
    library, save_path = configure(tmp_path, settings, httpserver, qbittorrent_server)
    gap = series_gap("Oathbringer", "3")
    serve_account(httpserver)
    serve_search(httpserver, mam_fake.row(601, "Oathbringer", series=(("The Stormlight Archive", "3"),), free=1))
    data = seeded_torrent(save_path, "Oathbringer", narrator="Kate Reading", series="The Stormlight Archive", part="3")
    serve_torrent(httpserver, 601, data)
    assert run("acquire_wanted").status == RunStatus.SUCCEEDED
    source = save_path / "Oathbringer"
    seeding = {name: (source / name).read_bytes() for name in os.listdir(source)}

    disk_full(monkeypatch)
    download = monitor_until(S.FAILED, Download.objects.get().pk)

    assert "No space left on device" in download.last_error and "Traceback" not in download.last_error
    assert download.next_retry_at > timezone.now() and download.retry_count == 1
    assert [step["to"] for step in download.transitions][-3:] == [S.COMPLETED, S.IMPORTING, S.FAILED]
    assert files_under(library) == []  # no partial file left behind
    assert {name: (source / name).read_bytes() for name in os.listdir(source)} == seeding  # the torrent's files
    assert not Book.objects.exists()
    gap.refresh_from_db()
    assert gap.status == GapStatus.FAILED

    monkeypatch.undo()  # space is back
    Download.objects.filter(pk=download.pk).update(next_retry_at=timezone.now() - timedelta(seconds=1))
    retried = run("download_retry")
    assert retried.status == RunStatus.SUCCEEDED and retried.summary["requeued"] == [download.pk]
    download = monitor_until(S.IMPORTED, download.pk)

    torrents = client_for(qbittorrent_server).torrents_info(category=settings.QBITTORRENT_CATEGORY)
    assert [torrent.hash for torrent in torrents] == [download.info_hash]
    assert Download.objects.count() == 1 and Book.objects.get() == download.book
    assert files_under(library) == ["Brandon Sanderson/The Stormlight Archive/03 - Oathbringer/Oathbringer.m4b"]
    gap.refresh_from_db()
    assert gap.status == GapStatus.COMPLETED
