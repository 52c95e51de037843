"""Hardcover: GraphQL with the bearer token; books by ISBN and title, series with positions, authors' books."""

import json
from datetime import date
from decimal import Decimal

import pytest

from library.models import ProviderCache, ProviderState
from library.providers.registry import lookup_author_books, lookup_book, lookup_series
from tests.library.provider_fakes import AUTHOR, HARDCOVER_TOKEN, SERIES, fake_server, running_fake

pytestmark = pytest.mark.django_db
ONLY = ["hardcover"]


@pytest.fixture(scope="module")
def provider_server():
    with fake_server() as server:
        yield server


@pytest.fixture
def fake(settings, provider_server):
    with running_fake(settings, provider_server) as fake:
        yield fake


def _body(fake, index=0) -> dict:
    return json.loads(fake.requests["hardcover"][index]["body"])


def test_an_isbn_lookup_posts_a_query_with_the_bearer_token(fake):
    lookup = lookup_book(isbn="9780765326355", providers=ONLY)

    (record,) = lookup.records
    assert (record.provider, record.title, record.authors) == ("hardcover", "The Way of Kings", [AUTHOR["name"]])
    assert (record.series_name, record.series_position) == (SERIES, "1")
    assert (record.isbn, record.isbns) == ("9780765326355", ["9780765326355", "0765326353"])
    assert (record.publisher, record.published_date) == ("Tor Books", date(2010, 8, 31))
    assert record.identifiers == {"hardcover": "386446"}
    (request,) = fake.requests["hardcover"]
    assert (request["method"], request["path"]) == ("POST", "/v1/graphql")
    assert request["headers"]["Authorization"] == f"Bearer {HARDCOVER_TOKEN}"
    body = _body(fake)
    assert "editions" in body["query"]
    assert body["variables"] == {"isbn": "9780765326355"}


def test_a_token_pasted_with_its_bearer_prefix_is_sent_once(fake, settings):
    settings.HARDCOVER_TOKEN = f"Bearer {HARDCOVER_TOKEN}"

    assert lookup_book(isbn="9780765326355", providers=ONLY).records
    assert fake.requests["hardcover"][0]["headers"]["Authorization"] == f"Bearer {HARDCOVER_TOKEN}"


def test_a_title_search_keeps_the_books_by_the_author(fake):
    found = lookup_book(title="Oathbringer", author="Sanderson, Brandon", providers=ONLY)
    other_author = lookup_book(title="Rhythm of War", author="Someone Else", providers=ONLY)

    (record,) = found.records
    assert (record.title, record.series_position, record.published_date) == ("Oathbringer", "3", date(2017, 11, 14))
    assert _body(fake)["variables"] == {"title": "Oathbringer"}
    assert other_author.records == []


def test_series_members_are_read_by_position_skipping_books_without_one(fake):
    lookup = lookup_series(series_name=SERIES, author="Brandon Sanderson", providers=ONLY)

    assert [(member.position, member.position_label, member.title) for member in lookup.records] == [
        (Decimal("1"), "1", "The Way of Kings"),
        (Decimal("2"), "2", "Words of Radiance"),
        (Decimal("2.5"), "2.5", "Edgedancer"),
        (Decimal("3"), "3", "Oathbringer"),
        (Decimal("4"), "4", "Rhythm of War"),
    ]
    first = lookup.records[0]
    assert (first.authors, first.published_date, first.published_year) == ([AUTHOR["name"]], date(2010, 8, 31), 2010)
    assert (first.series_name, first.identifiers) == (SERIES, {"hardcover": "386446"})
    assert _body(fake)["variables"] == {"name": SERIES}
    assert "book_series" in _body(fake)["query"]


def test_an_authors_books_carry_their_series_places(fake):
    lookup = lookup_author_books(author="Brandon Sanderson", providers=ONLY)

    assert [(record.title, record.series_position) for record in lookup.records] == [
        ("The Way of Kings", "1"),
        ("Words of Radiance", "2"),
        ("Edgedancer", "2.5"),
        ("Oathbringer", "3"),
        ("Rhythm of War", "4"),
    ]
    assert _body(fake)["variables"] == {"name": "Brandon Sanderson"}


def test_graphql_errors_are_a_failure(fake):
    fake.fail("hardcover", "errors")

    lookup = lookup_book(isbn="9780765326355", providers=ONLY)

    assert (lookup.records, lookup.degraded) == ([], ["hardcover"])
    assert "not found in type" in lookup.errors["hardcover"]
    state = ProviderState.objects.get(provider="hardcover")
    assert (state.failures, state.consecutive_failures) == (1, 1)
    assert "not found in type" in state.last_error
    assert not ProviderCache.objects.exists()
    assert fake.count("hardcover") == 1  # a rejected query is not retried


def test_a_rejected_token_is_a_failure_that_does_not_leak_it(fake, settings):
    settings.HARDCOVER_TOKEN = "not-the-token"

    lookup = lookup_book(isbn="9780765326355", providers=ONLY)

    assert lookup.degraded == ["hardcover"]
    assert "HARDCOVER_TOKEN" in lookup.errors["hardcover"]
    assert "not-the-token" not in lookup.errors["hardcover"]


def test_without_a_token_hardcover_is_skipped_silently(fake, settings):
    settings.HARDCOVER_TOKEN = ""

    lookup = lookup_series(series_name=SERIES, providers=ONLY)

    assert (lookup.records, lookup.degraded, lookup.from_cache) == ([], [], [])
    assert fake.count("hardcover") == 0
