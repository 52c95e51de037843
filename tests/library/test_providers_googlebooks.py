"""Google Books: volumes by ISBN, by title and author, by author; the optional key; no series."""

from datetime import date

import pytest

from library.providers.registry import lookup_author_books, lookup_book, lookup_series
from tests.library.provider_fakes import ALWAYS, AUTHOR, GOOGLE_KEY, fake_server, running_fake

pytestmark = pytest.mark.django_db
ONLY = ["googlebooks"]


@pytest.fixture(scope="module")
def provider_server():
    with fake_server() as server:
        yield server


@pytest.fixture
def fake(settings, provider_server):
    with running_fake(settings, provider_server) as fake:
        yield fake


@pytest.fixture
def keyed_fake(settings, provider_server):
    with running_fake(settings, provider_server, google_key=GOOGLE_KEY) as fake:
        yield fake


def test_an_isbn_lookup_reads_the_volume(fake):
    lookup = lookup_book(isbn="9780765326355", providers=ONLY)

    (record,) = lookup.records
    assert (record.provider, record.title, record.authors) == ("googlebooks", "The Way of Kings", [AUTHOR["name"]])
    assert record.subtitle == "Book One of the Stormlight Archive"
    assert (record.isbn, record.isbns) == ("9780765326355", ["9780765326355", "0765326353"])
    assert (record.publisher, record.published_year, record.published_date) == (
        "Tom Doherty Associates",
        2010,
        date(2010, 8, 31),
    )
    assert (record.language, record.page_count) == ("en", 1007)
    assert record.description == "Roshar is a world of stone and storms."
    assert record.identifiers == {"google": "QVn-CgAAQBAJ"}
    (request,) = fake.requests["googlebooks"]
    assert (request["path"], request["args"]["q"]) == ("/books/v1/volumes", "isbn:9780765326355")
    assert "key" not in request["args"]


def test_a_search_asks_intitle_and_inauthor_and_reads_partial_dates(fake):
    lookup = lookup_book(title="Words of Radiance", author="Brandon Sanderson", providers=ONLY)

    (record,) = lookup.records
    assert (record.title, record.published_year, record.published_date) == ("Words of Radiance", 2014, None)
    assert fake.requests["googlebooks"][0]["args"]["q"] == 'intitle:"Words of Radiance" inauthor:"Brandon Sanderson"'
    (edgedancer,) = lookup_book(title="Edgedancer", providers=ONLY).records
    assert (edgedancer.published_year, edgedancer.published_date) == (2016, None)


def test_an_authors_books_are_an_inauthor_query(fake):
    lookup = lookup_author_books(author="Brandon Sanderson", providers=ONLY)

    assert len(lookup.records) == 5
    assert fake.requests["googlebooks"][0]["args"]["q"] == 'inauthor:"Brandon Sanderson"'


def test_no_items_is_an_empty_answer(fake):
    lookup = lookup_book(title="A Book Nobody Wrote", providers=ONLY)

    assert (lookup.records, lookup.degraded) == ([], [])


def test_the_key_is_sent_when_set_and_kept_out_of_errors(keyed_fake, settings):
    assert lookup_book(isbn="9780765326355", providers=ONLY).records
    assert keyed_fake.requests["googlebooks"][0]["args"]["key"] == GOOGLE_KEY

    settings.GOOGLE_BOOKS_API_KEY = "wrong-key-123"
    rejected = lookup_book(isbn="9780765326362", providers=ONLY)
    keyed_fake.fail("googlebooks", 503, times=ALWAYS)
    failed = lookup_book(isbn="9780765326379", providers=ONLY)

    assert rejected.degraded == failed.degraded == ["googlebooks"]
    assert "wrong-key-123" not in str(rejected.errors) + str(failed.errors)


def test_google_books_knows_no_series(fake):
    lookup = lookup_series(series_name="The Stormlight Archive", providers=ONLY)

    assert (lookup.records, lookup.degraded) == ([], [])
    assert fake.count("googlebooks") == 0
