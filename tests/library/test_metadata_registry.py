"""Metadata correction through the real provider registry, against fake services on 127.0.0.1."""

import pytest

from library.models import Book, MetadataCorrection
from library.services.books import book_create
from library.services.metadata import book_correct_metadata
from tests.library.provider_fakes import ALWAYS, fake_server, running_fake

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def provider_server():
    with fake_server() as server:
        yield server


@pytest.fixture
def fake(settings, provider_server):
    with running_fake(settings, provider_server) as fake:
        yield fake


def way_of_kings(**fields):
    values = {"title": "The Way of Kings", "asin": "B003ZWFO7E", **fields}
    return book_create(fields=values, authors=["Brandon Sanderson"], source="scan")


def test_a_book_is_filled_from_the_providers_in_their_order(fake):
    book = way_of_kings()

    result = book_correct_metadata(book=book)

    book.refresh_from_db()
    assert [c.record.provider for c in result.candidates if c.accepted][0] == "audnexus"
    assert result.degraded == []
    assert list(book.narrators.order_by("name").values_list("name", flat=True)) == ["Kate Reading", "Michael Kramer"]
    assert book.duration_seconds == 2734 * 60
    assert book.isbn == "9780765326355"
    entry = book.series_entries.select_related("series").get()
    assert (entry.series.name, entry.position_label) == ("The Stormlight Archive", "1")
    sources = dict(MetadataCorrection.objects.filter(book=book).values_list("field", "source"))
    assert sources["narrators"] == "audnexus"
    assert book.metadata_sources["narrators"]["source"] == "audnexus"


def test_only_the_providers_asked_for_are_asked(fake):
    book = way_of_kings()

    result = book_correct_metadata(book=book, providers=["openlibrary"])

    assert result.matched
    assert {c.record.provider for c in result.candidates} == {"openlibrary"}
    assert fake.count("audnexus") == fake.count("hardcover") == fake.count("googlebooks") == 0
    book.refresh_from_db()
    assert book.isbn and book.publisher


def test_a_failing_provider_falls_back_and_a_rerun_comes_from_the_cache(fake):
    book = way_of_kings()
    fake.fail("audnexus", 500, times=ALWAYS)

    first = book_correct_metadata(book=book)

    assert "audnexus" in first.degraded
    assert first.matched  # hardcover, openlibrary and google still matched by title and author
    assert Book.objects.get(pk=book.pk).publisher
    requests = {name: fake.count(name) for name in ("hardcover", "openlibrary", "googlebooks")}

    second = book_correct_metadata(book=book, providers=["hardcover", "openlibrary", "googlebooks"])

    assert set(second.from_cache) == {"hardcover", "openlibrary", "googlebooks"}
    assert {name: fake.count(name) for name in requests} == requests
    assert second.changed == []
