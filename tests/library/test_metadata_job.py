"""The ``metadata_refresh`` job, its batch and ``manage.py refresh_metadata``."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from library.models import Book, MetadataCorrection
from library.selectors.metadata import books_to_refresh
from library.services.books import book_lock_fields
from library.services.metadata_history import CHECKED
from mamcrawler.api.exceptions import ExternalApiError
from scheduler import schedules
from scheduler.choices import RunStatus, Trigger
from scheduler.models import JobRun
from scheduler.runner import job_run_now
from tests.factories import BookFactory
from tests.library.metadata_fakes import install, record, sparse_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def providers(monkeypatch):
    return install(monkeypatch)


def checked(book, when):
    sources = {**book.metadata_sources, CHECKED: {"source": "providers", "at": when}}
    Book.objects.filter(pk=book.pk).update(metadata_sources=sources)


def test_the_job_is_declared_daily_at_four():
    job = schedules.get_job("metadata_refresh")

    assert job.default_schedule == "0 4 * * *"
    assert job.load().__name__ == "metadata_refresh_run"


def test_the_batch_takes_never_checked_books_then_the_longest_unchecked():
    recent, old, never = BookFactory(title="Recent"), BookFactory(title="Old"), BookFactory(title="Never")
    checked(recent, "2026-11-20T10:00:00Z")
    checked(old, "2025-01-01T10:00:00Z")
    BookFactory(title="Archived", status="archived")

    assert list(books_to_refresh(limit=10)) == [never, old, recent]
    assert list(books_to_refresh(limit=2)) == [never, old]
    assert list(books_to_refresh(limit=10, book_ids=[recent.pk, old.pk])) == [old, recent]


def test_the_batch_can_be_narrowed_by_completeness_or_recency():
    complete = BookFactory(title="Complete")
    Book.objects.filter(pk=complete.pk).update(metadata_completeness=90)
    stale = BookFactory(title="Stale")
    Book.objects.filter(pk=stale.pk).update(
        date_added=timezone.now() - timedelta(days=30), updated_at=timezone.now() - timedelta(days=30)
    )

    assert set(books_to_refresh(limit=10, threshold=80)) == {stale}
    assert set(books_to_refresh(limit=10, days=7)) == {complete}


def test_a_run_counts_books_and_summarises_changes_per_source(providers):
    matched = sparse_book()
    unknown = sparse_book(title="Something Unrelated")
    locked = sparse_book(title="The Way of Kings")
    book_lock_fields(books=[locked], fields=["publisher"])
    providers.records = [record("audnexus", publisher=""), record("openlibrary", narrators=[])]
    providers.degraded = ["hardcover"]

    run = job_run_now(name="metadata_refresh", trigger=Trigger.COMMAND, params={"limit": 10})

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (run.processed, run.succeeded, run.skipped, run.failed) == (3, 2, 1, 0)
    summary = run.summary
    assert summary["selected"] == 3 and summary["books_changed"] == 2
    assert summary["changed_by_source"]["openlibrary"]["publisher"] == 1
    assert summary["changed_by_source"]["audnexus"]["narrators"] == 2
    assert summary["skipped_fields"]["locked"] == 1
    assert summary["degraded_providers"] == ["hardcover"]
    assert summary["fields_changed"] == MetadataCorrection.objects.count()
    assert set(MetadataCorrection.objects.values_list("job_run", flat=True)) == {run.pk}
    assert Book.objects.get(pk=locked.pk).publisher == ""
    assert Book.objects.get(pk=matched.pk).publisher == "Tor Books"
    for book in (matched, unknown, locked):
        assert CHECKED in Book.objects.get(pk=book.pk).metadata_sources
    # Checked books go to the back of the queue; the check left updated_at alone.
    assert Book.objects.get(pk=unknown.pk).updated_at == unknown.updated_at


def test_a_failing_book_is_recorded_and_the_run_goes_on(providers):
    sparse_book()
    sparse_book(title="Another")
    providers.error = ExternalApiError("every provider is down", service="OpenLibrary")

    run = job_run_now(name="metadata_refresh", trigger=Trigger.API)

    assert run.status == RunStatus.SUCCEEDED
    assert (run.processed, run.failed) == (2, 2)
    assert run.summary["errors"][0]["error"] == "every provider is down"


def test_overwrite_in_a_run_still_leaves_locked_fields_alone(providers):
    book = sparse_book(publisher="Gollancz")
    book_lock_fields(books=[book], fields=["publisher", "title"])
    providers.records = [record(title="The Way of Kings")]

    job_run_now(name="metadata_refresh", trigger=Trigger.API, params={"overwrite": True})

    book.refresh_from_db()
    assert (book.publisher, book.title) == ("Gollancz", "The Way of Kings (Unabridged)")


def test_the_command_runs_the_job_with_its_options(providers):
    sparse_book()
    providers.records = [record()]
    out = StringIO()

    call_command("refresh_metadata", "--limit", "5", "--threshold", "90", "--overwrite", stdout=out)

    run = JobRun.objects.get()
    assert (run.job, run.trigger, run.status) == ("metadata_refresh", "command", "succeeded")
    assert run.params == {"limit": 5, "threshold": 90, "overwrite": True}
    assert "metadata_refresh" in out.getvalue() and "processed=1" in out.getvalue()


@pytest.mark.parametrize("args", [["--limit", "0"], ["--threshold", "101"], ["--days", "soon"]])
def test_the_command_refuses_bad_options(args):
    with pytest.raises(CommandError):
        call_command("refresh_metadata", *args)
    assert not JobRun.objects.exists()
