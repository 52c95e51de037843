"""Metadata providers failing under the ``metadata_refresh`` and ``gap_analysis`` jobs.

Each of OpenLibrary, Google Books, Hardcover and Audnexus times out, answers 500, answers
429 with ``Retry-After``, sends HTML or truncated JSON.  The run records the provider as
degraded with a readable error, writes nothing half-done, and the next run against a
healthy provider does the work.
"""

from __future__ import annotations

import pytest

from library.integrations import base
from library.models import Book, BookAuthor, MetadataCorrection, MissingBook, ProviderState, Series, SeriesEntry
from scheduler.choices import RunStatus, Trigger
from scheduler.runner import job_run_now
from tests.factories import AuthorFactory, BookFactory
from tests.faults.faults import CLIENT_TIMEOUT, MODES, RETRY_AFTER, heal, inject, readable
from tests.library.provider_fakes import GOOGLE_KEY, HARDCOVER_TOKEN, PREFIXES, fake_server, running_fake

pytestmark = pytest.mark.django_db

PROVIDERS = ("openlibrary", "googlebooks", "hardcover", "audnexus")
SECRETS = (HARDCOVER_TOKEN, GOOGLE_KEY)


@pytest.fixture(scope="module")
def provider_server():
    with fake_server() as server:
        yield server


@pytest.fixture
def sleeps(monkeypatch):
    """The waits between attempts, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(base, "_sleep", waits.append)
    return waits


@pytest.fixture
def providers(settings, provider_server, sleeps):
    with running_fake(settings, provider_server, google_key=GOOGLE_KEY) as fake:
        settings.PROVIDER_TIMEOUT = CLIENT_TIMEOUT
        settings.PROVIDER_RETRIES = 1
        yield fake


def way_of_kings() -> Book:
    """The Way of Kings with its identifiers and author but none of the fields providers fill."""
    book = BookFactory(title="The Way of Kings", isbn="9780765326355", asin="B003ZWFO7E", publisher="", description="")
    BookAuthor.objects.create(book=book, author=AuthorFactory(name="Brandon Sanderson"), position=0)
    return book


def refresh(provider: str):
    return job_run_now(name="metadata_refresh", trigger=Trigger.COMMAND, params={"providers": [provider]})


def snapshot(book: Book) -> dict:
    values = Book.objects.filter(pk=book.pk).values().get()
    values.pop("metadata_sources")  # the "_checked" stamp moves on every check
    values.pop("updated_at", None)
    return values


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_failing_provider_degrades_the_refresh_and_the_next_run_corrects_the_book(
    providers, provider_server, sleeps, provider, mode
):
    book = way_of_kings()
    before = snapshot(book)
    inject(provider_server, rf"^{PREFIXES[provider]}/", mode)

    failed = refresh(provider)

    assert failed.status == RunStatus.SUCCEEDED, failed.error
    assert failed.summary["degraded_providers"] == [provider]
    assert (failed.failed, failed.succeeded, failed.skipped) == (0, 0, 1)
    assert snapshot(book) == before and not MetadataCorrection.objects.exists()  # nothing half-written
    state = ProviderState.objects.get(provider=provider)
    assert readable(state.last_error, *SECRETS), state.last_error
    for text in (failed.error, failed.log_tail, str(failed.summary)):
        assert readable(text or "-", *SECRETS)
    if mode == "429":
        assert sleeps == [float(RETRY_AFTER)]  # Retry-After honoured, and not hammered: one retry
        assert "HTTP 429" in state.last_error

    heal(provider_server)
    healthy = refresh(provider)

    assert healthy.status == RunStatus.SUCCEEDED, healthy.error
    assert (healthy.summary["degraded_providers"], healthy.succeeded) == ([], 1)
    assert MetadataCorrection.objects.filter(book=book, source=provider).exists()
    assert snapshot(book) != before


def stormlight_with_book_one() -> Series:
    book = way_of_kings()
    series = Series.objects.create(name="The Stormlight Archive")
    SeriesEntry.objects.create(book=book, series=series, position=1, position_label="1")
    return series


@pytest.mark.parametrize("mode", MODES)
def test_a_failing_series_provider_leaves_the_series_unchecked_and_the_next_analysis_finds_its_gaps(
    settings, providers, provider_server, mode
):
    settings.METADATA_PROVIDERS = ["hardcover"]
    series = stormlight_with_book_one()
    inject(provider_server, rf"^{PREFIXES['hardcover']}/", mode)

    failed = job_run_now(name="gap_analysis", trigger=Trigger.COMMAND, params={"series_ids": [series.pk]})

    assert failed.status == RunStatus.SUCCEEDED, failed.error
    assert failed.summary["degraded_providers"] == ["hardcover"]
    assert failed.summary["gaps_new"] == 0 and not MissingBook.objects.exists()
    assert readable(ProviderState.objects.get(provider="hardcover").last_error, *SECRETS)
    assert readable(failed.log_tail, *SECRETS) and "degraded providers: hardcover" in failed.log_tail

    heal(provider_server)
    healthy = job_run_now(name="gap_analysis", trigger=Trigger.COMMAND, params={"series_ids": [series.pk]})

    assert healthy.status == RunStatus.SUCCEEDED, healthy.error
    assert healthy.summary["degraded_providers"] == []
    assert healthy.summary["gaps_new"] == MissingBook.objects.filter(series=series).count() > 0
