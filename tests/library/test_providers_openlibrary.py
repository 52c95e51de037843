"""OpenLibrary: editions by ISBN (redirect, work, authors), search, series from search, an author's works."""

from datetime import date
from decimal import Decimal

import pytest

from library.models import ProviderCache
from library.providers.openlibrary import split_series
from library.providers.registry import lookup_author_books, lookup_book, lookup_series
from tests.library.provider_fakes import AUTHOR, SERIES, fake_server, running_fake

pytestmark = pytest.mark.django_db
ONLY = ["openlibrary"]


@pytest.fixture(scope="module")
def provider_server():
    with fake_server() as server:
        yield server


@pytest.fixture
def fake(settings, provider_server):
    with running_fake(settings, provider_server) as fake:
        yield fake


def test_an_isbn_lookup_follows_the_redirect_and_reads_work_and_author(fake):
    lookup = lookup_book(isbn="978-0-7653-2635-5", providers=ONLY)

    (record,) = lookup.records
    assert (record.provider, record.title, record.authors) == ("openlibrary", "The Way of Kings", [AUTHOR["name"]])
    assert (record.isbn, record.isbns) == ("9780765326355", ["9780765326355", "0765326353"])
    assert (record.publisher, record.published_year, record.published_date) == ("Tor", 2010, date(2010, 8, 31))
    assert (record.series_name, record.series_position) == (SERIES, "1")
    assert (record.language, record.page_count) == ("en", 1007)
    assert "Roshar" in record.description
    assert record.identifiers == {"openlibrary": "OL15358691W", "openlibrary_edition": "OL24381290M"}
    assert [entry["path"] for entry in fake.requests["openlibrary"]] == [
        "/isbn/9780765326355.json",
        "/books/OL24381290M.json",
        "/works/OL15358691W.json",
        f"/authors/{AUTHOR['ol']}.json",
    ]
    assert (lookup.degraded, lookup.from_cache) == ([], [])


def test_a_year_only_publish_date_gives_a_year_and_no_day(fake):
    (record,) = lookup_book(isbn="9780765326379", providers=ONLY).records

    assert (record.title, record.published_year, record.published_date) == ("Oathbringer", 2017, None)


def test_an_unknown_isbn_is_cached_as_an_empty_answer(fake):
    first = lookup_book(isbn="9780000000002", providers=ONLY)
    again = lookup_book(isbn="9780000000002", providers=ONLY)

    assert (first.records, first.degraded) == ([], [])
    assert (again.records, again.from_cache) == ([], ["openlibrary"])
    row = ProviderCache.objects.get(provider="openlibrary", key="isbn:9780000000002")
    assert (row.status, row.payload) == (404, None)
    assert fake.count("openlibrary") == 1


def test_a_search_sends_title_author_and_fields(fake):
    lookup = lookup_book(title="Words of Radiance", author="Brandon Sanderson", providers=ONLY)

    (record,) = lookup.records
    assert (record.title, record.published_year, record.published_date) == ("Words of Radiance", 2014, None)
    assert record.isbn == "9780765326362"
    assert record.isbns[:2] == ["9780765326362", "9781429992800"]
    assert (record.publisher, record.language, record.series_position) == ("Tor", "en", "2")
    assert record.identifiers == {"openlibrary": "OL16801546W"}
    (request,) = fake.requests["openlibrary"]
    assert request["path"] == "/search.json"
    assert request["args"]["title"] == "Words of Radiance"
    assert request["args"]["author"] == "Brandon Sanderson"
    assert "series" in request["args"]["fields"].split(",")


def test_series_members_come_from_the_series_field_and_skip_unnumbered_places(fake):
    lookup = lookup_series(series_name="Stormlight Archive", author="Brandon Sanderson", providers=ONLY)

    assert [(member.position, member.position_label, member.title) for member in lookup.records] == [
        (Decimal("1"), "1", "The Way of Kings"),
        (Decimal("2"), "2", "Words of Radiance"),
        (Decimal("2.5"), "2.5", "Edgedancer"),
        (Decimal("3"), "3", "Oathbringer"),
        (Decimal("4"), "4", "Rhythm of War"),
    ]
    assert all(member.provider == "openlibrary" for member in lookup.records)
    assert lookup.records[0].published_year == 2010
    assert lookup.records[0].series_name == SERIES
    assert fake.requests["openlibrary"][0]["args"]["q"] == "Stormlight Archive"


def test_a_series_it_knows_nothing_about_is_empty(fake):
    assert lookup_series(series_name="Cosmere Cookbook", providers=ONLY).records == []


def test_an_authors_books_come_from_the_matching_authors_works(fake):
    lookup = lookup_author_books(author="Sanderson, Brandon", providers=ONLY)

    assert [record.title for record in lookup.records] == [
        "The Way of Kings",
        "Words of Radiance",
        "Edgedancer",
        "Oathbringer",
        "Rhythm of War",
    ]
    assert lookup.records[0].authors == [AUTHOR["name"]]
    assert lookup.records[0].identifiers == {"openlibrary": "OL15358691W"}
    assert [entry["path"] for entry in fake.requests["openlibrary"]] == [
        "/search/authors.json",
        f"/authors/{AUTHOR['ol']}/works.json",
    ]


def test_an_unknown_author_has_no_books(fake):
    assert lookup_author_books(author="Nobody Known", providers=ONLY).records == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Stormlight Archive ; 1", ("The Stormlight Archive", "1")),
        ("Stormlight Archive, #2.5", ("Stormlight Archive", "2.5")),
        ("Discworld (41)", ("Discworld", "41")),
        ("Mistborn, book 3", ("Mistborn", "3")),
        ("The Expanse ; 1-3", ("The Expanse", "1-3")),
        ("Mistborn", ("Mistborn", "")),
        ("The Stormlight Archive ; Prequel", ("The Stormlight Archive ; Prequel", "")),
    ],
)
def test_series_strings_split_into_name_and_place(text, expected):
    assert split_series(text) == expected
