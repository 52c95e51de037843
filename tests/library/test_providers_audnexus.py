"""Audnexus: audiobook fields by ASIN; nothing else."""

from datetime import date

import pytest

from library.models import ProviderCache
from library.providers.registry import lookup_author_books, lookup_book, lookup_series
from tests.library.provider_fakes import AUTHOR, SERIES, fake_server, running_fake

pytestmark = pytest.mark.django_db
ONLY = ["audnexus"]


@pytest.fixture(scope="module")
def provider_server():
    with fake_server() as server:
        yield server


@pytest.fixture
def fake(settings, provider_server):
    with running_fake(settings, provider_server) as fake:
        yield fake


def test_an_asin_lookup_reads_narrators_runtime_series_and_release(fake):
    lookup = lookup_book(asin="b003zwfo7e", providers=ONLY)

    (record,) = lookup.records
    assert (record.provider, record.title, record.asin) == ("audnexus", "The Way of Kings", "B003ZWFO7E")
    assert record.subtitle == "Stormlight Archive, Book 1"
    assert (record.authors, record.narrators) == ([AUTHOR["name"]], ["Michael Kramer", "Kate Reading"])
    assert (record.series_name, record.series_position) == (SERIES, "1")
    assert (record.duration_seconds, record.abridged) == (2734 * 60, False)
    assert (record.published_year, record.published_date) == (2010, date(2010, 8, 31))
    assert (record.publisher, record.language, record.isbn) == ("Macmillan Audio", "en", "9780765326355")
    assert record.description == "The Way of Kings & the storms."
    assert record.identifiers == {"audible": "B003ZWFO7E"}
    assert fake.requests["audnexus"][0]["path"] == "/books/B003ZWFO7E"


def test_a_fractional_series_place_is_kept(fake):
    (record,) = lookup_book(asin="B01LXXD4FQ", providers=ONLY).records

    assert (record.title, record.series_position) == ("Edgedancer", "2.5")


def test_an_unknown_asin_is_cached_as_not_found(fake):
    lookup = lookup_book(asin="B000000000", providers=ONLY)

    assert (lookup.records, lookup.degraded) == ([], [])
    assert ProviderCache.objects.get(provider="audnexus", key="asin:B000000000").status == 404


def test_a_malformed_asin_never_reaches_the_service(fake):
    assert lookup_book(asin="not an asin", providers=ONLY).records == []
    assert fake.count("audnexus") == 0


def test_it_answers_no_search_series_or_author_question(fake):
    lookups = [
        lookup_book(title="The Way of Kings", author="Brandon Sanderson", providers=ONLY),
        lookup_series(series_name=SERIES, providers=ONLY),
        lookup_author_books(author="Brandon Sanderson", providers=ONLY),
    ]

    assert all((lookup.records, lookup.degraded) == ([], []) for lookup in lookups)
    assert fake.count("audnexus") == 0
