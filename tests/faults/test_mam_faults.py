"""MAM failing under the ``mam_account`` and ``acquire_wanted`` jobs.

Timeouts, 500 and 429 are retried (``Retry-After`` honoured) and then recorded; HTML or a
truncated body means the session cannot be trusted: the run stops with one "session
expired" error.  The cookie never appears in what is recorded, no snapshot or Download
is half-made, and the next run against a healthy MAM does the work.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from downloads.integrations.mam import SEARCH_PATH
from downloads.models import Download, DownloadStatus, MamAccountSnapshot, MamSession
from library.integrations import base
from library.models import GapStatus, MissingBook
from scheduler.choices import RunStatus, Trigger
from scheduler.runner import job_run_now
from tests.downloads import mam_fake
from tests.faults.faults import CLIENT_TIMEOUT, MODES, RETRY_AFTER, heal, inject, readable

pytestmark = pytest.mark.django_db

GIB = 2**30
# HTML or a body that is not JSON from MAM is how an expired session looks (SPEC §8.1).
SESSION_MODES = ("html", "truncated")


@pytest.fixture
def sleeps(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(base, "_sleep", waits.append)
    return waits


@pytest.fixture
def mam(settings, httpserver, sleeps):
    mam_fake.configure(settings, httpserver)
    settings.MAM_TIMEOUT = CLIENT_TIMEOUT
    settings.MAM_RETRIES = 1
    settings.MAM_DYNAMIC_SEEDBOX = False
    settings.MIN_RATIO = 1.5
    settings.USE_WEDGES = False
    settings.MATCH_THRESHOLD = 60
    return httpserver


def expected_error(mode: str) -> str:
    return {
        "timeout": "timed out",
        "500": "HTTP 500",
        "429": "HTTP 429",
        "html": "session expired",
        "truncated": "session expired",
    }[mode]


@pytest.mark.parametrize("mode", MODES)
def test_a_failing_account_request_fails_the_snapshot_run_and_the_next_run_takes_it(mam, sleeps, mode):
    mam.expect_request("/jsonLoad.php").respond_with_json(mam_fake.account_body())
    inject(mam, r"^/jsonLoad\.php", mode)

    failed = job_run_now(name="mam_account", trigger=Trigger.COMMAND)

    assert failed.status == RunStatus.FAILED
    assert failed.error.startswith("MAM: ") and expected_error(mode) in failed.error
    assert readable(failed.error, mam_fake.SESSION) and readable(failed.log_tail, mam_fake.SESSION)
    assert not MamAccountSnapshot.objects.exists()
    if mode == "429":
        assert sleeps == [float(RETRY_AFTER)]
    if mode in SESSION_MODES:
        assert MamSession.load().expired is True

    heal(mam)
    healthy = job_run_now(name="mam_account", trigger=Trigger.COMMAND)

    assert healthy.status == RunStatus.SUCCEEDED, healthy.error
    assert MamAccountSnapshot.objects.get().uid == 424242
    session = MamSession.load()
    assert (session.expired, session.last_error) == (False, "")  # a working session is no longer shown as expired


def wanted_gap(title: str) -> MissingBook:
    return MissingBook.objects.create(
        title=title,
        title_key=title.lower(),
        reason="author_gap",
        author_names=["Brandon Sanderson"],
        status=GapStatus.WANTED,
        last_seen=timezone.now(),
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_failing_search_queues_nothing_and_the_next_acquire_queues_each_gap_once(mam, sleeps, mode):
    MamAccountSnapshot.objects.create(uploaded_bytes=300 * GIB, downloaded_bytes=100 * GIB, unsat_limit=50)
    gap = wanted_gap("The Way of Kings")
    mam.expect_request(SEARCH_PATH, method="POST").respond_with_json(
        mam_fake.search_body(mam_fake.row(101, "The Way of Kings", series=(), free=1))
    )
    mam.expect_request("/tor/download.php/dlhash101").respond_with_data(
        mam_fake.torrent_bytes(), content_type="application/x-bittorrent"
    )
    inject(mam, rf"^{SEARCH_PATH}$", mode)

    failed = job_run_now(name="acquire_wanted", trigger=Trigger.COMMAND)

    if mode in SESSION_MODES:
        assert failed.status == RunStatus.FAILED and "session expired" in failed.error
        assert readable(failed.error, mam_fake.SESSION)
    else:
        # One gap's failed search is counted and recorded; the run goes on with the others.
        assert failed.status == RunStatus.SUCCEEDED, failed.error
        error = failed.summary["errors"][gap.pk]
        assert failed.failed == 1 and expected_error(mode) in error and readable(error, mam_fake.SESSION)
    assert readable(failed.log_tail, mam_fake.SESSION)
    assert not Download.objects.exists()
    gap.refresh_from_db()
    assert gap.status == GapStatus.WANTED

    heal(mam)
    healthy = job_run_now(name="acquire_wanted", trigger=Trigger.COMMAND)
    again = job_run_now(name="acquire_wanted", trigger=Trigger.COMMAND)

    assert (healthy.status, again.status) == (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED), healthy.error
    download = Download.objects.get()
    assert (download.mam_torrent_id, download.status, download.missing_book) == (101, DownloadStatus.QUEUED, gap)
    gap.refresh_from_db()
    assert gap.status == GapStatus.QUEUED
