"""Workers claim downloads atomically: no download is handed to two workers (SPEC §8.5)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from downloads.models import Download, DownloadStatus
from downloads.state import CLAIM_STALE_AFTER, download_transition, downloads_claim
from tests.downloads.factories import DownloadFactory

S = DownloadStatus


@pytest.mark.django_db
def test_two_claims_in_a_row_never_return_the_same_download():
    DownloadFactory.create_batch(5)

    first = downloads_claim(status=S.QUEUED, limit=3, worker="a")
    second = downloads_claim(status=S.QUEUED, limit=3, worker="b")
    third = downloads_claim(status=S.QUEUED, limit=3, worker="c")

    assert (len(first), len(second), third) == (3, 2, [])
    assert not {d.pk for d in first} & {d.pk for d in second}
    assert {d.claimed_by for d in first} == {"a"}
    assert Download.objects.filter(claimed_by="b").count() == 2


@pytest.mark.django_db
def test_a_claim_takes_only_the_asked_status_most_urgent_first():
    low = DownloadFactory(priority=3)
    high = DownloadFactory(priority=1)
    DownloadFactory(status=S.FAILED)

    claimed = downloads_claim(status=S.QUEUED, limit=10, worker="a")

    assert [d.pk for d in claimed] == [high.pk, low.pk]


@pytest.mark.django_db
def test_a_stale_claim_is_taken_over_and_a_fresh_one_is_not():
    stale = DownloadFactory(claimed_by="dead", claimed_at=timezone.now() - CLAIM_STALE_AFTER - timedelta(seconds=1))
    DownloadFactory(claimed_by="alive", claimed_at=timezone.now())

    claimed = downloads_claim(status=S.QUEUED, limit=10, worker="a")

    assert [d.pk for d in claimed] == [stale.pk]
    assert claimed[0].claimed_by == "a"


@pytest.mark.django_db
def test_a_claim_follows_the_work_and_ends_when_it_is_done():
    DownloadFactory()
    [download] = downloads_claim(status=S.QUEUED, limit=1, worker="a")

    download = download_transition(download=download, to=S.SUBMITTING)
    assert Download.objects.get(pk=download.pk).claimed_by == "a"
    download_transition(download=download, to=S.DOWNLOADING)

    stored = Download.objects.get(pk=download.pk)
    assert (stored.claimed_by, stored.claimed_at) == (None, None)


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_on_postgresql_get_disjoint_sets():
    if connection.vendor != "postgresql":
        pytest.skip("SELECT … FOR UPDATE SKIP LOCKED needs PostgreSQL; SQLite claims row by row (tested above)")
    DownloadFactory.create_batch(40)
    barrier = threading.Barrier(4)
    results: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def claim(worker):
        try:
            barrier.wait(timeout=10)
            results[worker] = [d.pk for d in downloads_claim(status=S.QUEUED, limit=15, worker=worker)]
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    claimed = [pk for pks in results.values() for pk in pks]
    assert len(claimed) == len(set(claimed)) == 40
    for worker, pks in results.items():
        assert set(Download.objects.filter(claimed_by=worker).values_list("pk", flat=True)) == set(pks)
