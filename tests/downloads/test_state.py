"""The download state machine (SPEC §8.5): allow-list, lost updates, backoff, the retry job."""

from datetime import datetime, timedelta
from itertools import product

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from downloads.models import Download, DownloadStatus
from downloads.state import ALLOWED, download_fail, download_transition, downloads_retry_due
from mamcrawler.api.exceptions import Conflict
from scheduler import schedules
from scheduler.choices import RunStatus, Trigger
from scheduler.context import JobContext
from scheduler.models import JobRun
from scheduler.runner import job_run_now
from tests.downloads.factories import DownloadFactory

pytestmark = pytest.mark.django_db

S = DownloadStatus
ALLOWED_PAIRS = [(src, to) for src, targets in ALLOWED.items() for to in sorted(targets)]
ILLEGAL_PAIRS = [(src, to) for src, to in product(S.values, S.values) if to not in ALLOWED[src]]


def _walk(download, *statuses):
    for to in statuses:
        download = download_transition(download=download, to=to)
    return download


def test_the_allow_list_is_the_one_in_the_spec():
    assert len(ALLOWED_PAIRS) == 23
    assert set(ALLOWED) == set(S.values)
    assert not ALLOWED[S.IMPORTED] and not ALLOWED[S.CANCELLED] and not ALLOWED[S.ABANDONED]


@pytest.mark.parametrize(("src", "to"), ALLOWED_PAIRS, ids=[f"{a}->{b}" for a, b in ALLOWED_PAIRS])
def test_every_allowed_transition_is_saved_and_logged(src, to):
    download = DownloadFactory(status=src)

    returned = download_transition(download=download, to=to, reason="because")

    stored = Download.objects.get(pk=download.pk)
    assert returned.status == stored.status == to
    assert len(stored.transitions) == 1
    entry = stored.transitions[0]
    assert (entry["from"], entry["to"], entry["reason"]) == (src, to, "because")
    assert abs(datetime.fromisoformat(entry["at"]) - timezone.now()) < timedelta(seconds=5)
    assert stored.status_changed_at is not None


@pytest.mark.parametrize(("src", "to"), ILLEGAL_PAIRS, ids=[f"{a}->{b}" for a, b in ILLEGAL_PAIRS])
def test_an_illegal_transition_is_a_conflict_and_changes_nothing(src, to):
    download = DownloadFactory(status=src)

    with pytest.raises(Conflict) as caught:
        download_transition(download=download, to=to)

    assert caught.value.status_code == 409
    stored = Download.objects.get(pk=download.pk)
    assert stored.status == src
    assert stored.transitions == []


def test_a_transition_from_a_status_changed_concurrently_is_a_conflict():
    download = DownloadFactory(status=S.QUEUED)
    stale = Download.objects.get(pk=download.pk)
    download_transition(download=download, to=S.SUBMITTING)

    with pytest.raises(Conflict, match="changed concurrently"):
        download_transition(download=stale, to=S.CANCELLED)

    stored = Download.objects.get(pk=download.pk)
    assert stored.status == S.SUBMITTING
    assert [t["to"] for t in stored.transitions] == [S.SUBMITTING]


def test_a_stale_copy_loses_even_when_the_status_came_back_to_the_same_value():
    download = DownloadFactory(status=S.FAILED)
    stale = Download.objects.get(pk=download.pk)
    _walk(download, S.QUEUED, S.SUBMITTING, S.FAILED)

    with pytest.raises(Conflict):
        download_transition(download=stale, to=S.ABANDONED)

    stored = Download.objects.get(pk=download.pk)
    assert stored.status == S.FAILED
    assert len(stored.transitions) == 3


def test_the_whole_happy_path_is_logged_in_order():
    download = DownloadFactory()

    download = _walk(
        download, S.SUBMITTING, S.DOWNLOADING, S.PAUSED, S.DOWNLOADING, S.COMPLETED, S.IMPORTING, S.IMPORTED
    )

    stored = Download.objects.get(pk=download.pk)
    assert [(t["from"], t["to"]) for t in stored.transitions] == [
        ("queued", "submitting"),
        ("submitting", "downloading"),
        ("downloading", "paused"),
        ("paused", "downloading"),
        ("downloading", "completed"),
        ("completed", "importing"),
        ("importing", "imported"),
    ]


def test_failures_back_off_exponentially_then_the_download_is_abandoned(settings):
    settings.RETRY_BASE_SECONDS = 900
    download = DownloadFactory(status=S.SUBMITTING, max_retries=3)

    for retry, base_delay in enumerate((900, 1800, 3600)):
        before = timezone.now()
        download = download_fail(download=download, error=f"qBittorrent refused #{retry}")
        stored = Download.objects.get(pk=download.pk)
        assert stored.status == S.FAILED
        assert stored.retry_count == retry + 1
        assert stored.last_error == f"qBittorrent refused #{retry}"
        delay = (stored.next_retry_at - before).total_seconds()
        assert base_delay * 0.9 - 1 <= delay <= base_delay * 1.1 + 1
        download = _walk(stored, S.QUEUED, S.SUBMITTING)
        assert download.next_retry_at is None

    download = download_fail(download=download, error="still refused")

    stored = Download.objects.get(pk=download.pk)
    assert stored.status == S.ABANDONED
    assert stored.retry_count == 4
    assert stored.last_error == "still refused"
    assert [t["to"] for t in stored.transitions[-2:]] == [S.FAILED, S.ABANDONED]


def test_the_max_retries_default_comes_from_settings(settings):
    settings.DOWNLOAD_MAX_RETRIES = 5

    assert DownloadFactory().max_retries == 5


def test_failing_a_download_that_cannot_fail_is_a_conflict():
    download = DownloadFactory(status=S.QUEUED)

    with pytest.raises(Conflict):
        download_fail(download=download, error="boom")

    stored = Download.objects.get(pk=download.pk)
    assert (stored.status, stored.retry_count, stored.last_error) == (S.QUEUED, 0, "")


def _job():
    return JobContext(JobRun.objects.create(job="download_retry", trigger=Trigger.COMMAND))


def test_the_retry_job_requeues_only_failed_downloads_that_are_due():
    now = timezone.now()
    due = DownloadFactory(status=S.FAILED, next_retry_at=now - timedelta(minutes=1), retry_count=1)
    later = DownloadFactory(status=S.FAILED, next_retry_at=now + timedelta(minutes=10))
    held = DownloadFactory(status=S.HELD, next_retry_at=now - timedelta(minutes=1))
    job = _job()

    summary = downloads_retry_due(job=job)

    assert summary == {"requeued": [due.pk]}
    assert Download.objects.get(pk=due.pk).status == S.QUEUED
    assert Download.objects.get(pk=due.pk).next_retry_at is None
    assert Download.objects.get(pk=later.pk).status == S.FAILED
    assert Download.objects.get(pk=held.pk).status == S.HELD
    assert (job.run.processed, job.run.succeeded) == (1, 1)


def test_the_retry_job_is_declared_and_runs():
    job = schedules.get_job("download_retry")
    assert job.default_schedule == "15m"
    assert job.load() is downloads_retry_due
    DownloadFactory(status=S.FAILED, next_retry_at=timezone.now() - timedelta(seconds=1))

    run = job_run_now(name="download_retry", trigger=Trigger.API)

    assert run.status == RunStatus.SUCCEEDED
    assert run.succeeded == 1
    assert Download.objects.get().status == S.QUEUED


def test_two_active_downloads_cannot_share_an_info_hash():
    DownloadFactory(info_hash="b" * 40, status=S.DOWNLOADING)

    with pytest.raises(IntegrityError), transaction.atomic():
        DownloadFactory(info_hash="b" * 40)


@pytest.mark.parametrize(
    ("src", "final"), [(S.IMPORTING, S.IMPORTED), (S.QUEUED, S.CANCELLED), (S.FAILED, S.ABANDONED)]
)
def test_a_hash_may_be_downloaded_again_once_the_first_download_is_final(src, final):
    first = DownloadFactory(info_hash="c" * 40, status=src)
    download_transition(download=first, to=final)

    again = DownloadFactory(info_hash=first.info_hash)

    assert again.status == S.QUEUED
    assert Download.objects.filter(info_hash=first.info_hash).count() == 2
