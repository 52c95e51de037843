"""A wanted series gap becomes an imported book: fake MAM → real qBittorrent → hardlinked import.

Nothing in the chain is faked but MAM itself (a pytest-httpserver answering in MAM's JSON):
the torrent is a real one made with torf over files already in qBittorrent's save path, so
the real qbittorrent-nox checks them and reports the torrent complete.
"""

from __future__ import annotations

import os
import time
from decimal import Decimal

import pytest
import torf
from django.utils import timezone

from downloads.integrations.mam import SEARCH_PATH
from downloads.models import Download, DownloadStatus, MamAccountSnapshot
from library.models import Book, Series
from library.models_gaps import GapStatus, MissingBook
from scheduler.choices import RunStatus, Trigger
from scheduler.runner import job_run_now
from tests.downloads import mam_fake
from tests.downloads.qbittorrent_server import qbittorrent_server, restartable_qbittorrent  # noqa: F401
from tests.factories import SeriesFactory
from tests.library.audio import write_mp4

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

S = DownloadStatus
TRACKER = "https://t.myanonamouse.net/tracker.php/passkey/announce"


def configure(tmp_path, settings, httpserver, server):
    """LIBRARY_ROOT, a qBittorrent save path of this test's own, MAM on the fake server."""
    library = tmp_path / "library"
    library.mkdir()
    save_path = server.save_path / f"e2e-{tmp_path.name}"
    save_path.mkdir()
    settings.LIBRARY_ROOT = str(library)
    settings.LIBRARY_TEMPLATE = "{author}/{series}/{position} - {title}"
    settings.DOWNLOAD_PATH_MAP = {}
    settings.QBITTORRENT_URL = server.url
    settings.QBITTORRENT_SAVE_PATH = str(save_path)
    settings.QBITTORRENT_CATEGORY = f"e2e-{tmp_path.name}"[:60]
    settings.ABS_URL = settings.ABS_API_KEY = ""
    settings.MIN_RATIO = 1.5
    settings.USE_WEDGES = False
    settings.MATCH_THRESHOLD = 60
    mam_fake.configure(settings, httpserver)
    return library, save_path


@pytest.fixture
def world(tmp_path, settings, httpserver, qbittorrent_server):  # noqa: F811
    return configure(tmp_path, settings, httpserver, qbittorrent_server)


def seeded_torrent(save_path, name: str, *, narrator: str, series: str, part: str) -> bytes:
    """An m4b already complete in the save path, and the private MAM torrent for it."""
    folder = save_path / name
    folder.mkdir()
    tags = {
        "©alb": name,
        "©nam": name,
        "©ART": "Brandon Sanderson",
        "©nrt": narrator,
        "----:com.apple.iTunes:SERIES": series,
        "----:com.apple.iTunes:SERIES-PART": part,
    }
    write_mp4(folder / f"{name}.m4b", tags=tags, seconds=3600)
    torrent = torf.Torrent(path=folder, private=True, trackers=[TRACKER], created_by=None)
    torrent.generate()
    return torrent.dump()


def series_gap(title: str, position: str, *, status=GapStatus.WANTED) -> MissingBook:
    series = Series.objects.filter(name="The Stormlight Archive").first() or SeriesFactory(
        name="The Stormlight Archive"
    )
    return MissingBook.objects.create(
        title=title,
        title_key=title.lower(),
        reason="series_gap",
        series=series,
        position=Decimal(position),
        position_label=position,
        author_names=["Brandon Sanderson"],
        status=status,
        last_seen=timezone.now(),
    )


def serve_account(httpserver, **overrides):
    httpserver.expect_request("/jsonLoad.php").respond_with_json(mam_fake.account_body(**overrides))


def serve_search(httpserver, *rows):
    httpserver.expect_request(SEARCH_PATH, method="POST").respond_with_json(mam_fake.search_body(*rows))


def serve_torrent(httpserver, tid: int, data: bytes):
    httpserver.expect_request(f"/tor/download.php/dlhash{tid}").respond_with_data(
        data, content_type="application/x-bittorrent"
    )


def run(name: str, **params):
    return job_run_now(name=name, trigger=Trigger.COMMAND, params=params)


def monitor_until(status: str, download_id: int, seconds: float = 30) -> Download:
    deadline = time.monotonic() + seconds
    while True:
        run("download_monitor")
        download = Download.objects.get(pk=download_id)
        if download.status == status:
            return download
        if time.monotonic() > deadline:
            pytest.fail(f"download stayed {download.status} ({download.last_error}); wanted {status}")
        time.sleep(0.5)


def test_a_series_gap_is_searched_downloaded_and_imported(world, httpserver):
    library, save_path = world
    gap = series_gap("Words of Radiance", "2")
    data = seeded_torrent(
        save_path, "Words of Radiance", narrator="Kate Reading", series="The Stormlight Archive", part="2"
    )
    serve_account(httpserver)
    good = mam_fake.row(201, "Words of Radiance", series=(("The Stormlight Archive", "2"),), free=1, size="1.9 GiB")
    wrong_position = mam_fake.row(202, "Words of Radiance", series=(("The Stormlight Archive", "3"),), free=1)
    abridged = mam_fake.row(203, "Words of Radiance (Abridged)", series=(("The Stormlight Archive", "2"),), free=1)
    serve_search(httpserver, wrong_position, abridged, good)
    serve_torrent(httpserver, 201, data)

    acquired = run("acquire_wanted")

    assert acquired.status == RunStatus.SUCCEEDED, acquired.error
    download = Download.objects.get()
    assert (download.mam_torrent_id, download.status, download.is_free) == (201, S.QUEUED, True)
    assert download.mam_details["series"] == [["The Stormlight Archive", "2"]]
    assert download.mam_details["narrators"] == ["Michael Kramer", "Kate Reading"]
    gap.refresh_from_db()
    assert gap.status == GapStatus.QUEUED and gap.best_candidate["mam_torrent_id"] == 201

    download = monitor_until(S.IMPORTED, download.pk)

    book = Book.objects.get()
    target = library / "Brandon Sanderson" / "The Stormlight Archive" / "02 - Words of Radiance"
    imported = target / "Words of Radiance.m4b"
    source = save_path / "Words of Radiance" / "Words of Radiance.m4b"
    assert imported.is_file() and os.stat(imported).st_ino == os.stat(source).st_ino  # hardlinked, still seeding
    assert download.book == book and download.progress == 1
    entry = book.series_entries.get()
    assert (entry.series.name, entry.position, entry.position_label) == ("The Stormlight Archive", Decimal("2"), "2")
    assert [narrator.name for narrator in book.narrators.all()] == ["Kate Reading"]
    gap.refresh_from_db()
    assert gap.status == GapStatus.COMPLETED and gap.resolved_book == book
    steps = [t["to"] for t in download.transitions]
    assert steps == ["queued", "submitting", "downloading", "completed", "importing", "imported"]


def test_with_the_ratio_below_the_floor_a_paid_candidate_is_held_and_a_free_one_goes_through(world, httpserver):
    _library, save_path = world
    paid_gap = series_gap("Oathbringer", "3")
    free_gap = series_gap("Rhythm of War", "4")
    # ratio 1.2: uploaded 120 GiB over downloaded 100 GiB
    serve_account(httpserver, uploaded_bytes=120 * 2**30, downloaded_bytes=100 * 2**30, ratio=1.2)
    paid = mam_fake.row(301, "Oathbringer", series=(("The Stormlight Archive", "3"),), size="2 GiB")
    free = mam_fake.row(401, "Rhythm of War", series=(("The Stormlight Archive", "4"),), free=1)
    httpserver.expect_request(SEARCH_PATH, method="POST", json=_search_json("oathbringer")).respond_with_json(
        mam_fake.search_body(paid)
    )
    httpserver.expect_request(SEARCH_PATH, method="POST", json=_search_json("rhythm of war")).respond_with_json(
        mam_fake.search_body(free)
    )
    data = seeded_torrent(
        save_path, "Rhythm of War", narrator="Kate Reading", series="The Stormlight Archive", part="4"
    )
    serve_torrent(httpserver, 401, data)

    acquired = run("acquire_wanted")

    assert acquired.status == RunStatus.SUCCEEDED, acquired.error
    paid_gap.refresh_from_db()
    free_gap.refresh_from_db()
    assert paid_gap.status == GapStatus.FOUND
    assert paid_gap.hold_reason.startswith("ratio 1.1") and "below 1.5" in paid_gap.hold_reason
    assert paid_gap.best_candidate["cost"] == "ratio" and paid_gap.best_candidate["allowed"] is False
    assert free_gap.status == GapStatus.QUEUED
    assert list(Download.objects.values_list("mam_torrent_id", "status")) == [(401, S.QUEUED)]
    assert str(paid_gap.pk) in {str(k) for k in acquired.summary["held"]}
    assert not any("/tor/download.php/dlhash301" in str(request.url) for request, _ in httpserver.log)


def _search_json(text_prefix: str):
    """Not a full body match: pytest-httpserver needs the exact JSON, so build the body the client sends."""
    from django.conf import settings

    return {
        "tor": {
            "text": f"{text_prefix} brandon sanderson",
            "srchIn": ["title", "author", "narrator", "series"],
            "searchType": "all",
            "main_cat": ["13"],
            "sortType": "default",
            "startNumber": "0",
            "browse_lang": list(settings.MAM_LANGUAGES),
        },
        "perpage": 100,
        "dlLink": "true",
    }


def test_an_expired_mam_session_stops_the_run_with_one_error(world, httpserver):
    for number in (1, 2, 3):
        series_gap(f"Book {number}", str(number))
    MamAccountSnapshot.objects.create(uploaded_bytes=10, downloaded_bytes=1, unsat_limit=50)
    httpserver.expect_request(SEARCH_PATH, method="POST").respond_with_data("Forbidden", status=403)

    acquired = run("acquire_wanted")

    assert acquired.status == RunStatus.FAILED
    assert "session expired" in acquired.error and acquired.error.count("session expired") == 1
    assert sum(1 for request, _ in httpserver.log if request.path == SEARCH_PATH) == 1
    assert not Download.objects.exists()


def test_qbittorrent_stopped_mid_run_leaves_the_download_queued_and_the_next_run_completes_it(
    tmp_path,
    settings,
    httpserver,
    restartable_qbittorrent,  # noqa: F811
):
    library, save_path = configure(tmp_path, settings, httpserver, restartable_qbittorrent.server)
    gap = series_gap("Edgedancer", "2.5")
    serve_account(httpserver)
    serve_search(httpserver, mam_fake.row(501, "Edgedancer", series=(("The Stormlight Archive", "2.5"),), free=1))
    data = seeded_torrent(save_path, "Edgedancer", narrator="Kate Reading", series="The Stormlight Archive", part="2.5")
    serve_torrent(httpserver, 501, data)
    assert run("acquire_wanted").status == RunStatus.SUCCEEDED
    download = Download.objects.get()

    restartable_qbittorrent.stop()
    stopped = run("download_monitor")

    assert stopped.status == RunStatus.FAILED and "cannot reach" in stopped.error
    download.refresh_from_db()
    assert download.status == S.QUEUED and download.transitions[-1]["from"] == S.SUBMITTING
    gap.refresh_from_db()
    assert gap.status == GapStatus.QUEUED

    restartable_qbittorrent.start()
    download = monitor_until(S.IMPORTED, download.pk)

    gap.refresh_from_db()
    assert gap.status == GapStatus.COMPLETED and download.book.title == "Edgedancer"
    assert (library / "Brandon Sanderson" / "The Stormlight Archive" / "02.5 - Edgedancer").is_dir()


def test_a_followed_download_survives_an_unreachable_client(settings):
    settings.QBITTORRENT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.QBITTORRENT_TIMEOUT = 1
    download = Download.objects.create(title="X", info_hash="a" * 40, status=S.DOWNLOADING, progress=0.4)

    result = run("download_monitor")

    assert result.status == RunStatus.FAILED and "qBittorrent" in result.error
    download.refresh_from_db()
    assert (download.status, download.progress, download.transitions) == (S.DOWNLOADING, 0.4, [])
