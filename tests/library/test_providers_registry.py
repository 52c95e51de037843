"""The registry: provider order and subsets, the cache (fresh, expired, not found), status and cleanup."""

from datetime import timedelta

import pytest
from django.utils import timezone

from library.models import MetadataCorrection, ProviderCache, ProviderState
from library.providers.registry import (
    Lookup,
    lookup_book,
    lookup_series,
    provider_cache_cleanup,
    providers_status,
)
from scheduler.choices import RunStatus, Trigger
from scheduler.runner import job_run_now
from tests.factories import BookFactory
from tests.library.provider_fakes import (
    ALWAYS,
    HARDCOVER_TOKEN,
    SERIES,
    FakeProviders,
    fake_server,
    point_settings,
    running_fake,
)

pytestmark = pytest.mark.django_db
ISBN = "9780765326355"
ASIN = "B003ZWFO7E"
STATUS_FIELDS = {
    "name",
    "enabled",
    "configured",
    "base_url",
    "last_success_at",
    "last_failure_at",
    "last_error",
    "requests",
    "failures",
    "error_rate",
    "cache_entries",
    "circuit",
    "opened_until",
}


@pytest.fixture(scope="module")
def provider_server():
    with fake_server() as server:
        yield server


@pytest.fixture
def fake(settings, provider_server):
    with running_fake(settings, provider_server) as fake:
        yield fake


def _row(provider, key, payload, *, age_days=0, expires_in_days=30, status=200):
    fetched = timezone.now() - timedelta(days=age_days)
    return ProviderCache.objects.create(
        provider=provider,
        key=key,
        payload=payload,
        status=status,
        fetched_at=fetched,
        expires_at=timezone.now() + timedelta(days=expires_in_days),
    )


# --- order and subsets -----------------------------------------------------------------------


def test_every_provider_answers_in_the_configured_order(fake):
    lookup = lookup_book(isbn=ISBN, asin=ASIN)

    assert isinstance(lookup, Lookup)
    assert [record.provider for record in lookup.records] == ["audnexus", "hardcover", "openlibrary", "googlebooks"]
    assert {record.title for record in lookup.records} == {"The Way of Kings"}
    assert (lookup.degraded, lookup.from_cache) == ([], [])


def test_the_order_and_the_enabled_set_are_settings(fake, settings):
    settings.METADATA_PROVIDERS = ["googlebooks", "openlibrary"]

    lookup = lookup_book(isbn=ISBN, asin=ASIN)

    assert [record.provider for record in lookup.records] == ["googlebooks", "openlibrary"]
    assert fake.count("audnexus") == fake.count("hardcover") == 0


def test_a_subset_is_asked_in_the_configured_order(fake):
    lookup = lookup_book(isbn=ISBN, providers=["googlebooks", "hardcover", "nonsense"])

    assert [record.provider for record in lookup.records] == ["hardcover", "googlebooks"]
    assert fake.count("openlibrary") == 0


def test_an_unconfigured_provider_is_skipped_silently(fake, settings):
    settings.HARDCOVER_TOKEN = ""
    settings.AUDNEXUS_URL = ""

    lookup = lookup_book(isbn=ISBN, asin=ASIN)

    assert [record.provider for record in lookup.records] == ["openlibrary", "googlebooks"]
    assert (lookup.degraded, lookup.from_cache) == ([], [])
    assert fake.count("hardcover") == fake.count("audnexus") == 0


def test_a_provider_that_finds_nothing_by_isbn_is_asked_by_title(fake):
    lookup = lookup_book(
        isbn="9780000000002", title="Oathbringer", author="Brandon Sanderson", providers=["openlibrary"]
    )

    assert [record.title for record in lookup.records] == ["Oathbringer"]
    assert [entry["path"] for entry in fake.requests["openlibrary"]] == ["/isbn/9780000000002.json", "/search.json"]


def test_series_come_from_the_providers_that_know_series(fake):
    lookup = lookup_series(series_name=SERIES, author="Brandon Sanderson")

    assert {member.provider for member in lookup.records} == {"hardcover", "openlibrary"}
    assert len(lookup.records) == 10
    assert fake.count("googlebooks") == fake.count("audnexus") == 0


# --- the cache -------------------------------------------------------------------------------


def test_answers_are_cached_under_normalised_keys(fake, settings):
    lookup_book(isbn="978-0-7653-2635-5", title="  The Way of KINGS ", author="Sanderson, Brandon")
    lookup_series(series_name="The Stormlight Archive", author="Brandon Sanderson")

    keys = set(ProviderCache.objects.values_list("provider", "key"))
    assert ("openlibrary", f"isbn:{ISBN}") in keys
    assert ("hardcover", f"isbn:{ISBN}") in keys
    assert ("hardcover", "series:the stormlight archive|brandon sanderson") in keys
    row = ProviderCache.objects.get(provider="googlebooks", key=f"isbn:{ISBN}")
    assert row.payload["items"][0]["volumeInfo"]["title"] == "The Way of Kings"  # the raw answer
    assert row.status == 200
    assert row.expires_at - row.fetched_at == timedelta(days=settings.PROVIDER_CACHE_DAYS)


def test_a_fresh_cache_answers_with_the_server_stopped(settings, db):
    with fake_server() as server:
        fake = FakeProviders(server)
        point_settings(settings, fake)
        first = lookup_book(isbn=ISBN, asin=ASIN)
        server.stop()

        again = lookup_book(isbn=ISBN, asin=ASIN)

    assert [record.provider for record in again.records] == ["audnexus", "hardcover", "openlibrary", "googlebooks"]
    assert again.records == first.records
    assert again.degraded == []
    assert again.from_cache == ["audnexus", "hardcover", "openlibrary", "googlebooks"]


def test_a_fresh_row_is_used_without_asking(fake):
    _row("googlebooks", f"isbn:{ISBN}", {"items": [{"id": "cached", "volumeInfo": {"title": "From The Cache"}}]})

    lookup = lookup_book(isbn=ISBN, providers=["googlebooks"])

    assert [record.title for record in lookup.records] == ["From The Cache"]
    assert lookup.from_cache == ["googlebooks"]
    assert fake.count("googlebooks") == 0


def test_an_expired_row_is_refreshed(fake, settings):
    old = _row(
        "googlebooks",
        f"isbn:{ISBN}",
        {"items": [{"id": "old", "volumeInfo": {"title": "Old Title"}}]},
        age_days=40,
        expires_in_days=-10,
    )

    lookup = lookup_book(isbn=ISBN, providers=["googlebooks"])

    assert [record.title for record in lookup.records] == ["The Way of Kings"]
    assert (lookup.from_cache, lookup.degraded) == ([], [])
    assert fake.count("googlebooks") == 1
    old.refresh_from_db()
    assert old.payload["items"][0]["id"] == "QVn-CgAAQBAJ"
    assert old.expires_at > timezone.now() + timedelta(days=29)
    assert old.fetched_at > timezone.now() - timedelta(minutes=1)


def test_an_expired_row_answers_when_the_provider_is_down(fake):
    _row(
        "googlebooks",
        f"isbn:{ISBN}",
        {"items": [{"id": "old", "volumeInfo": {"title": "Old Title"}}]},
        expires_in_days=-1,
    )
    fake.fail("googlebooks", 500, times=ALWAYS)

    lookup = lookup_book(isbn=ISBN, providers=["googlebooks"])

    assert [record.title for record in lookup.records] == ["Old Title"]
    assert (lookup.from_cache, lookup.degraded) == (["googlebooks"], ["googlebooks"])


def test_a_cached_row_that_no_longer_parses_is_asked_again(fake):
    _row("googlebooks", f"isbn:{ISBN}", ["not", "a", "volumes", "answer"])

    lookup = lookup_book(isbn=ISBN, providers=["googlebooks"])

    assert [record.title for record in lookup.records] == ["The Way of Kings"]
    assert lookup.from_cache == []


# --- status and cleanup ----------------------------------------------------------------------


def test_providers_status_reports_configuration_health_and_cache(fake, settings):
    settings.METADATA_PROVIDERS = ["hardcover", "openlibrary", "googlebooks"]
    settings.OPENLIBRARY_URL = fake.url("openlibrary").replace("http://", "http://user:secret@") + "?x=1"
    settings.GOOGLE_BOOKS_API_KEY = "gb-secret-key"
    fake.fail("hardcover", 500, times=3)
    lookup_book(isbn=ISBN, providers=["hardcover"])
    lookup_book(isbn=ISBN, providers=["hardcover"])

    rows = providers_status()

    assert [row["name"] for row in rows] == ["hardcover", "openlibrary", "googlebooks", "audnexus"]
    assert all(set(row) == STATUS_FIELDS for row in rows)
    hardcover, openlibrary, googlebooks, audnexus = rows
    assert (hardcover["enabled"], hardcover["configured"], audnexus["enabled"]) == (True, True, False)
    assert (hardcover["requests"], hardcover["failures"], hardcover["error_rate"]) == (2, 1, 0.5)
    assert hardcover["last_success_at"] > hardcover["last_failure_at"]
    assert "HTTP 500" in hardcover["last_error"]
    assert (hardcover["cache_entries"], hardcover["circuit"], hardcover["opened_until"]) == (1, "closed", None)
    assert openlibrary["base_url"] == fake.url("openlibrary")
    assert (openlibrary["requests"], openlibrary["error_rate"], openlibrary["last_success_at"]) == (0, 0.0, None)
    assert "secret" not in str(rows) and HARDCOVER_TOKEN not in str(rows)
    assert googlebooks["configured"] is True


def test_status_shows_hardcover_without_a_token_as_not_configured(fake, settings):
    settings.HARDCOVER_TOKEN = ""

    (hardcover,) = [row for row in providers_status() if row["name"] == "hardcover"]

    assert (hardcover["enabled"], hardcover["configured"]) == (True, False)


def test_cache_cleanup_deletes_expired_rows_only():
    expired = _row("openlibrary", "isbn:1", {}, age_days=40, expires_in_days=-10)
    fresh = _row("openlibrary", "isbn:2", {}, age_days=5)
    old_but_fresh = _row("hardcover", "isbn:3", {}, age_days=20)

    assert provider_cache_cleanup() == 1
    assert set(ProviderCache.objects.values_list("pk", flat=True)) == {fresh.pk, old_but_fresh.pk}
    assert not ProviderCache.objects.filter(pk=expired.pk).exists()


def test_cache_cleanup_by_age_deletes_older_rows_and_never_the_history():
    book = BookFactory()
    correction = MetadataCorrection.objects.create(
        book=book, field="title", old_value="a", new_value="b", source="manual"
    )
    MetadataCorrection.objects.filter(pk=correction.pk).update(created_at=timezone.now() - timedelta(days=999))
    _row("openlibrary", "isbn:1", {}, age_days=20)
    kept = _row("openlibrary", "isbn:2", {}, age_days=5)

    assert provider_cache_cleanup(older_than_days=10) == 1
    assert list(ProviderCache.objects.values_list("pk", flat=True)) == [kept.pk]
    assert MetadataCorrection.objects.filter(pk=correction.pk).exists()
    with pytest.raises(ValueError):
        provider_cache_cleanup(older_than_days=-1)


def test_the_cleanup_job_deletes_expired_provider_cache():
    _row("openlibrary", "isbn:1", {}, age_days=40, expires_in_days=-10)
    _row("openlibrary", "isbn:2", {})

    run = job_run_now(name="cleanup", trigger=Trigger.COMMAND)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.summary["provider_cache_deleted"] == 1
    assert ProviderCache.objects.count() == 1
    assert ProviderState.objects.count() == 0
