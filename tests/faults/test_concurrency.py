"""Two workers acquiring the same wanted gaps at once (PostgreSQL; SQLite has one writer at a time).

Through the runner the job's lock lets one run in and refuses the other; below it (two
``acquire_wanted`` bodies racing, as two hosts with a lost lock would) the partial unique
index on active info hashes still leaves one Download per torrent and per gap.

The other concurrency faults have their tests elsewhere:
``tests/downloads/test_monitor.py::test_two_workers_monitoring_at_once_submit_and_import_each_download_once``
and ``tests/api/test_shared_budget.py::test_two_workers_admit_the_budget_once``.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.utils import timezone

from downloads.integrations.mam import SEARCH_PATH
from downloads.jobs import acquire_wanted_run
from downloads.models import Download, MamAccountSnapshot
from library.models import GapStatus, MissingBook
from mamcrawler.api.exceptions import Conflict
from scheduler.choices import RunStatus, Trigger
from scheduler.context import JobContext
from scheduler.models import JobRun
from scheduler.runner import job_run_now
from tests.downloads import mam_fake

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL; SQLite serialises them"
    ),
]

GIB = 2**30
TITLES = ("The Way of Kings", "Words of Radiance", "Oathbringer")


@pytest.fixture
def mam(settings, httpserver):
    mam_fake.configure(settings, httpserver)
    settings.MAM_DYNAMIC_SEEDBOX = False
    settings.USE_WEDGES = False
    settings.MATCH_THRESHOLD = 60
    settings.ACQUIRE_MAX_DOWNLOADS = 10
    MamAccountSnapshot.objects.create(uploaded_bytes=300 * GIB, downloaded_bytes=100 * GIB, unsat_limit=50)
    rows = []
    for number, title in enumerate(TITLES, start=1):
        MissingBook.objects.create(
            title=title,
            title_key=title.lower(),
            reason="author_gap",
            author_names=["Brandon Sanderson"],
            status=GapStatus.WANTED,
            last_seen=timezone.now(),
        )
        rows.append(mam_fake.row(700 + number, title, series=(), free=1))
        httpserver.expect_request(f"/tor/download.php/dlhash{700 + number}").respond_with_data(
            mam_fake.torrent_bytes(title), content_type="application/x-bittorrent"
        )
    httpserver.expect_request(SEARCH_PATH, method="POST").respond_with_json(mam_fake.search_body(*rows))
    return httpserver


def in_two_threads(work) -> list:
    """``work(index)`` in two threads released together; their results (or exceptions)."""
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(index):
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def assert_one_download_per_torrent_and_gap():
    downloads = list(Download.objects.all())
    assert sorted(d.mam_torrent_id for d in downloads) == [701, 702, 703]
    assert max(Counter(d.info_hash for d in downloads).values()) == 1
    assert max(Counter(d.missing_book_id for d in downloads).values()) == 1
    assert set(MissingBook.objects.values_list("status", flat=True)) == {GapStatus.QUEUED}


def test_two_acquire_runs_at_once_one_runs_and_each_gap_gets_one_download(mam):
    results = in_two_threads(lambda index: job_run_now(name="acquire_wanted", trigger=Trigger.COMMAND))

    ran = [r for r in results if isinstance(r, JobRun) and r.status == RunStatus.SUCCEEDED]
    refused = [r for r in results if isinstance(r, Conflict) or (isinstance(r, JobRun) and r.status == "cancelled")]
    assert (len(ran), len(refused)) == (1, 1), results
    assert_one_download_per_torrent_and_gap()


def test_two_acquire_bodies_racing_past_the_job_lock_still_queue_each_torrent_once(mam):
    runs = [JobRun.objects.create(job="acquire_wanted", trigger=Trigger.COMMAND) for _ in range(2)]

    results = in_two_threads(lambda index: acquire_wanted_run(job=JobContext(runs[index])))

    assert all(isinstance(result, dict) for result in results), results
    assert all(not result["errors"] for result in results), results
    assert_one_download_per_torrent_and_gap()
