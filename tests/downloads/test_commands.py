"""``search_mam``, ``acquire_wanted`` and ``monitor_downloads`` against a fake MAM and a real qBittorrent."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from downloads.bencode import info_hash
from downloads.integrations.mam import SEARCH_PATH
from downloads.integrations.qbittorrent import QbittorrentClient
from downloads.models import Download, DownloadStatus, MamAccountSnapshot, MamSession
from library.models import GapStatus, MissingBook
from scheduler.choices import RunStatus
from scheduler.models import JobRun
from tests.downloads import mam_fake
from tests.downloads.qbittorrent_server import qbittorrent_server  # noqa: F401
from tests.factories import SeriesFactory

pytestmark = pytest.mark.django_db

GIB = 1024**3


@pytest.fixture
def mam(settings, httpserver):
    mam_fake.configure(settings, httpserver)
    return httpserver


@pytest.fixture
def healthy_account():
    """A fresh snapshot, so the job does not ask MAM for the account first."""
    return MamAccountSnapshot.objects.create(
        username="reader", ratio=Decimal("3"), uploaded_bytes=300 * GIB, downloaded_bytes=100 * GIB, unsat_limit=50
    )


def wanted_gap(title="The Way of Kings", position="1") -> MissingBook:
    return MissingBook.objects.create(
        title=title,
        title_key=title.lower(),
        reason="series_gap",
        series=SeriesFactory(name="The Stormlight Archive"),
        position=Decimal(position),
        position_label=position,
        author_names=["Brandon Sanderson"],
        status=GapStatus.WANTED,
        last_seen=timezone.now(),
    )


def serve_search(mam, *rows):
    mam.expect_request(SEARCH_PATH, method="POST").respond_with_json(mam_fake.search_body(*rows))


def command(name, *args, **options) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def line_of(output: str, text: str) -> int:
    return next(i for i, line in enumerate(output.splitlines()) if text in line)


# --- search_mam --------------------------------------------------------------------------------


def test_search_mam_prints_the_rows_best_first(mam, healthy_account):
    serve_search(
        mam,
        mam_fake.row(201, "The Way of Kings", filetype="mp3", seeders=3),
        mam_fake.row(202, "The Way of Kings", free=1),
        mam_fake.row(203, "The Way of Kings", seeders=0),
    )

    output = command("search_mam", "The Way of Kings", author="Brandon Sanderson")

    lines = output.splitlines()
    assert lines[1].split()[:4] == ["rank", "MAM", "id", "score"]
    assert lines[2].split()[:2] == ["1", "202"]
    assert lines[3].split()[:2] == ["2", "201"]
    assert lines[2].split()[3:5] == ["free", "allowed"]
    assert lines[3].split()[3:5] == ["ratio", "allowed"]
    assert "203" not in output
    assert "1 rejected not shown" in output


def test_search_mam_all_lists_rejected_rows_with_their_reason(mam, healthy_account):
    serve_search(mam, mam_fake.row(202, "The Way of Kings"), mam_fake.row(203, "The Way of Kings", seeders=0))

    output = command("search_mam", "The Way of Kings", author="Brandon Sanderson", all=True)

    rejected = output.splitlines()[line_of(output, "203")]
    assert rejected.startswith("-")
    assert "rejected: 0 seeder(s), below 1" in rejected
    assert line_of(output, "202") < line_of(output, "203")


def test_search_mam_for_a_gap_stores_the_best_candidate_on_it(mam, healthy_account):
    gap = wanted_gap()
    serve_search(mam, mam_fake.row(301, "The Way of Kings", seeders=9), mam_fake.row(302, "Words of Radiance"))

    output = command("search_mam", gap=gap.pk)

    gap.refresh_from_db()
    assert gap.best_candidate["mam_torrent_id"] == 301
    assert gap.status == GapStatus.FOUND
    assert gap.searched_at is not None
    assert f"Gap #{gap.pk}" in output
    assert "best candidate MAM 301" in output


def test_search_mam_turns_an_expired_session_into_a_command_error(mam):
    mam.expect_request(SEARCH_PATH, method="POST").respond_with_data("Forbidden", status=403)

    with pytest.raises(CommandError, match="session expired"):
        command("search_mam", "anything")


def test_search_mam_needs_a_query_or_a_gap(mam):
    with pytest.raises(CommandError, match="Give a query"):
        command("search_mam")
    with pytest.raises(CommandError, match="no gap with id 999"):
        command("search_mam", gap=999)


# --- acquire_wanted ----------------------------------------------------------------------------


def test_acquire_wanted_dry_run_reports_and_queues_nothing(mam, healthy_account):
    gap = wanted_gap()
    serve_search(mam, mam_fake.row(401, "The Way of Kings", free=1))

    output = command("acquire_wanted", "--dry-run")

    run = JobRun.objects.get(job="acquire_wanted")
    assert run.status == RunStatus.SUCCEEDED
    assert run.params == {"max_downloads": None, "dry_run": True, "analyze": False, "gap_ids": None}
    assert run.summary["queued"] == [{"gap": gap.pk, "mam_torrent_id": 401}]
    assert '"dry_run":true' in output
    assert "succeeded=1" in output
    assert not Download.objects.exists()
    gap.refresh_from_db()
    assert gap.status == GapStatus.FOUND


def test_acquire_wanted_queues_a_free_candidate_for_a_wanted_gap(mam, healthy_account):
    gap = wanted_gap()
    serve_search(mam, mam_fake.row(501, "The Way of Kings", free=1))
    data = mam_fake.torrent_bytes("The Way of Kings")
    mam.expect_request("/tor/download.php/dlhash501").respond_with_data(data, content_type="application/x-bittorrent")

    output = command("acquire_wanted", "--max", "3", "--gap", str(gap.pk))

    download = Download.objects.get()
    assert (download.status, download.mam_torrent_id, download.is_free) == (DownloadStatus.QUEUED, 501, True)
    assert download.info_hash == info_hash(data)
    assert download.missing_book == gap
    gap.refresh_from_db()
    assert gap.status == GapStatus.QUEUED
    assert JobRun.objects.get().params["gap_ids"] == [gap.pk]
    assert "acquire_wanted #" in output
    assert "succeeded" in output


def test_acquire_wanted_stops_with_the_message_when_the_session_expired(mam, healthy_account):
    wanted_gap()
    mam.expect_request(SEARCH_PATH, method="POST").respond_with_data("Forbidden", status=403)

    with pytest.raises(CommandError, match="session expired"):
        command("acquire_wanted")

    assert JobRun.objects.get().status == RunStatus.FAILED
    assert MamSession.load().expired
    assert not Download.objects.exists()


def test_acquire_wanted_refuses_unknown_gap_ids_before_running(mam):
    with pytest.raises(CommandError, match="no gap with id 12345"):
        command("acquire_wanted", "--gap", "12345")

    assert not JobRun.objects.exists()


# --- monitor_downloads -------------------------------------------------------------------------


@pytest.mark.integration
def test_monitor_downloads_submits_queued_torrents_to_qbittorrent(settings, qbittorrent_server):  # noqa: F811
    settings.QBITTORRENT_URL = qbittorrent_server.url
    data = mam_fake.torrent_bytes("Monitor Command Test")
    download = Download.objects.create(
        title="Monitor Command Test", info_hash=info_hash(data), torrent_file=data, status_changed_at=timezone.now()
    )
    client = QbittorrentClient()
    try:
        output = command("monitor_downloads")

        download.refresh_from_db()
        assert download.status == DownloadStatus.DOWNLOADING
        assert client.torrent(download.info_hash) is not None
        assert "download_monitor #" in output
        assert JobRun.objects.get().status == RunStatus.SUCCEEDED
    finally:
        client.delete(download.info_hash, delete_files=True)
