"""The acquire_wanted job (SPEC §8, §10): which gaps, wedges, the dynamic seedbox, limits, MAM narrators."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from downloads.integrations.mam import SEARCH_PATH
from downloads.jobs import wanted_gaps
from downloads.models import Download, DownloadStatus, MamAccountSnapshot, MamSession
from library.models import GapStatus, MissingBook
from scheduler.choices import RunStatus, Trigger
from scheduler.runner import job_run_now
from tests.downloads import mam_fake
from tests.factories import SeriesFactory

pytestmark = pytest.mark.django_db

S = DownloadStatus
GIB = 2**30


@pytest.fixture(autouse=True)
def mam(settings, httpserver):
    mam_fake.configure(settings, httpserver)
    settings.MAM_TRACKER_URL = httpserver.url_for("/tracker").rstrip("/")
    settings.MIN_RATIO = 1.5
    settings.USE_WEDGES = False
    settings.MAM_DYNAMIC_SEEDBOX = False
    settings.MATCH_THRESHOLD = 60
    return httpserver


def gap(title: str, *, status=GapStatus.WANTED, priority=2, series=None, position="1", **fields) -> MissingBook:
    return MissingBook.objects.create(
        title=title,
        title_key=title.lower(),
        reason="series_gap" if series else "author_gap",
        series=series,
        position=Decimal(position) if series else None,
        position_label=position if series else "",
        author_names=["Brandon Sanderson"],
        status=status,
        priority=priority,
        last_seen=timezone.now(),
        **fields,
    )


def fresh_snapshot(**fields):
    values = {"uploaded_bytes": 300 * GIB, "downloaded_bytes": 100 * GIB, "unsat_limit": 50} | fields
    return MamAccountSnapshot.objects.create(**values)


def run(**params):
    return job_run_now(name="acquire_wanted", trigger=Trigger.COMMAND, params=params)


def serve(httpserver, *rows, torrents=()):
    httpserver.expect_request(SEARCH_PATH, method="POST").respond_with_json(mam_fake.search_body(*rows))
    for tid in torrents:
        httpserver.expect_request(f"/tor/download.php/dlhash{tid}").respond_with_data(
            mam_fake.torrent_bytes(f"torrent {tid}")
        )


def test_wanted_gaps_come_by_priority_then_least_recently_searched(settings):
    settings.ACQUIRE_MONITORED = True
    monitored = SeriesFactory(name="Followed", monitored=True)
    ignored_series = SeriesFactory(name="Not followed", monitored=False)
    low = gap("Low", priority=3)
    searched = gap("Searched", priority=1, searched_at=timezone.now())
    never = gap("Never searched", priority=1)
    identified_followed = gap("Followed gap", status=GapStatus.IDENTIFIED, series=monitored)
    gap("Unfollowed gap", status=GapStatus.IDENTIFIED, series=ignored_series)
    gap("Ignored", status=GapStatus.IGNORED)
    gap("Done", status=GapStatus.COMPLETED)
    busy = gap("Busy")
    Download.objects.create(title="x", info_hash="e" * 40, missing_book=busy)

    assert list(wanted_gaps()) == [never, searched, identified_followed, low]

    settings.ACQUIRE_MONITORED = False
    assert identified_followed not in list(wanted_gaps())


def test_dry_run_searches_and_stores_candidates_but_queues_nothing(mam):
    fresh_snapshot()
    wanted = gap("The Way of Kings")
    serve(mam, mam_fake.row(101, "The Way of Kings", free=1), torrents=[101])

    result = run(dry_run=True)

    assert result.status == RunStatus.SUCCEEDED, result.error
    assert result.summary["queued"] == [{"gap": wanted.pk, "mam_torrent_id": 101}]
    assert not Download.objects.exists()
    wanted.refresh_from_db()
    assert wanted.status == GapStatus.FOUND and wanted.best_candidate["mam_torrent_id"] == 101
    assert "dl" in wanted.best_candidate  # kept for the download; the API leaves it out


def test_max_downloads_caps_what_one_run_queues(mam):
    fresh_snapshot()
    for number in range(3):
        gap(f"The Way of Kings {number}")
    serve(mam, mam_fake.row(101, "The Way of Kings", free=1), torrents=[101])

    result = run(max_downloads=1)

    assert result.status == RunStatus.SUCCEEDED, result.error
    assert len(result.summary["queued"]) == 1 and Download.objects.count() == 1


def test_a_wedge_makes_a_paid_torrent_free_when_only_the_ratio_stands_in_the_way(mam, settings):
    settings.USE_WEDGES = True
    fresh_snapshot(uploaded_bytes=120 * GIB, wedges=2)
    wanted = gap("The Way of Kings")
    serve(mam, mam_fake.row(101, "The Way of Kings", size="1.5 GiB"), torrents=[101])
    mam.expect_request("/json/bonusBuy.php/").respond_with_json({"success": True, "type": "personalFL"})

    result = run()

    assert result.status == RunStatus.SUCCEEDED, result.error
    download = Download.objects.get()
    assert (download.status, download.used_wedge, download.is_free) == (S.QUEUED, True, True)
    spent = [request for request, _ in mam.log if request.path == "/json/bonusBuy.php/"]
    assert len(spent) == 1 and spent[0].args["spendtype"] == "personalFL" and spent[0].args["torrentid"] == "101"
    wanted.refresh_from_db()
    assert wanted.best_candidate["cost"] == "wedge"


def test_a_wedge_is_never_spent_on_a_free_torrent(mam, settings):
    settings.USE_WEDGES = True
    fresh_snapshot(uploaded_bytes=120 * GIB, wedges=2)
    gap("The Way of Kings")
    serve(mam, mam_fake.row(101, "The Way of Kings", free=1), torrents=[101])

    assert run().status == RunStatus.SUCCEEDED

    assert Download.objects.get().used_wedge is False
    assert not any(request.path.startswith("/json/bonusBuy.php") for request, _ in mam.log)


def test_a_refused_wedge_holds_the_torrent_with_mams_reason(mam, settings):
    settings.USE_WEDGES = True
    fresh_snapshot(uploaded_bytes=120 * GIB, wedges=1)
    wanted = gap("The Way of Kings")
    serve(mam, mam_fake.row(101, "The Way of Kings", size="1.5 GiB"), torrents=[101])
    mam.expect_request("/json/bonusBuy.php/").respond_with_json({"success": False, "error": "Not enough wedges"})

    assert run().status == RunStatus.SUCCEEDED

    download = Download.objects.get()
    assert download.status == S.HELD and "Not enough wedges" in download.last_error
    wanted.refresh_from_db()
    assert wanted.status == GapStatus.FOUND and "Not enough wedges" in wanted.hold_reason


def test_the_dynamic_seedbox_is_called_at_most_once_an_hour(mam, settings):
    settings.MAM_DYNAMIC_SEEDBOX = True
    fresh_snapshot()
    mam.expect_request("/tracker/json/dynamicSeedbox.php").respond_with_json({"Success": True, "msg": "Completed"})

    assert run().summary["seedbox"] == "Completed"
    assert run().summary["seedbox"] is None
    MamSession.objects.update(seedbox_updated_at=timezone.now() - timedelta(hours=2))
    assert run().summary["seedbox"] == "Completed"

    calls = [request for request, _ in mam.log if request.path == "/tracker/json/dynamicSeedbox.php"]
    assert len(calls) == 2 and all("mam_id=" in request.headers["Cookie"] for request in calls)
    assert MamSession.load().seedbox_message == "Completed"


def test_a_stale_account_snapshot_is_refreshed_before_queuing(mam):
    old = fresh_snapshot()
    MamAccountSnapshot.objects.filter(pk=old.pk).update(taken_at=timezone.now() - timedelta(hours=3))
    mam.expect_request("/jsonLoad.php").respond_with_json(mam_fake.account_body())

    assert run().status == RunStatus.SUCCEEDED

    assert MamAccountSnapshot.objects.count() == 2


def test_a_failing_search_of_one_gap_does_not_stop_the_others(mam, settings):
    settings.MAM_RETRIES = 0
    fresh_snapshot()
    gap("First", priority=1)
    gap("Second", priority=2)
    mam.expect_ordered_request(SEARCH_PATH, method="POST").respond_with_data("oops", status=500)
    mam.expect_ordered_request(SEARCH_PATH, method="POST").respond_with_json(mam_fake.NOTHING)

    result = run()

    assert result.status == RunStatus.SUCCEEDED, result.error
    assert (result.failed, len(result.summary["errors"]), len(result.summary["not_found"])) == (1, 1, 1)
    assert MissingBook.objects.get(title="Second").status == GapStatus.NOT_FOUND
