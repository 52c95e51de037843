"""Filters, search and ordering of ``GET /api/v1/series/``."""

from decimal import Decimal

import pytest

from tests.factories import AuthorFactory, SeriesFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/series/"


def ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def library():
    """Four series with distinct names, completion and missing counts."""
    return {
        "alpha": SeriesFactory(
            name="Alpha", completion_status="complete", completion_percentage=Decimal("100"), books_missing=0
        ),
        "bravo": SeriesFactory(
            name="Bravo",
            completion_status="partial",
            completion_percentage=Decimal("75"),
            books_missing=1,
            monitored=True,
        ),
        "charlie": SeriesFactory(
            name="Charlie", completion_status="incomplete", completion_percentage=Decimal("20"), books_missing=8
        ),
        "delta": SeriesFactory(name="Delta", completion_status="unknown", completion_percentage=None, books_missing=0),
    }


def test_without_ordering_series_come_by_name(viewer_client, library):
    assert ids(viewer_client.get(URL)) == [s.id for s in library.values()]


def test_it_filters_by_completion_status(viewer_client, library):
    assert ids(viewer_client.get(URL, {"completion_status": "partial"})) == [library["bravo"].id]


def test_it_filters_by_several_completion_statuses(viewer_client, library):
    response = viewer_client.get(URL, {"completion_status": ["partial", "incomplete"]})
    assert ids(response) == [library["bravo"].id, library["charlie"].id]


def test_it_filters_by_monitored(viewer_client, library):
    assert ids(viewer_client.get(URL, {"monitored": "true"})) == [library["bravo"].id]
    assert library["bravo"].id not in ids(viewer_client.get(URL, {"monitored": "false"}))


def test_it_filters_by_completion_range(viewer_client, library):
    assert ids(viewer_client.get(URL, {"min_completion": 50})) == [library["alpha"].id, library["bravo"].id]
    assert ids(viewer_client.get(URL, {"max_completion": 75})) == [library["bravo"].id, library["charlie"].id]
    assert ids(viewer_client.get(URL, {"min_completion": 10, "max_completion": 80})) == [
        library["bravo"].id,
        library["charlie"].id,
    ]


def test_it_filters_by_primary_or_listed_author(viewer_client):
    author = AuthorFactory(name="Robin Hobb")
    led = SeriesFactory(name="Farseer", primary_author=author)
    listed = SeriesFactory(name="Anthology")
    listed.authors.add(author, AuthorFactory())
    both = SeriesFactory(name="Liveship", primary_author=author)
    both.authors.add(author)
    SeriesFactory(name="Other")
    assert ids(viewer_client.get(URL, {"author": author.id})) == [listed.id, led.id, both.id]


def test_it_searches_series_names(viewer_client, library):
    assert ids(viewer_client.get(URL, {"search": "arli"})) == [library["charlie"].id]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["alpha", "bravo", "charlie", "delta"]),
        ("-name", ["delta", "charlie", "bravo", "alpha"]),
        # Unknown completion sorts last in both directions.
        ("completion", ["charlie", "bravo", "alpha", "delta"]),
        ("-completion", ["alpha", "bravo", "charlie", "delta"]),
        # Ties (alpha and delta miss nothing) fall back to the id.
        ("missing", ["alpha", "delta", "bravo", "charlie"]),
        ("-missing", ["charlie", "bravo", "alpha", "delta"]),
        ("-missing,name", ["charlie", "bravo", "alpha", "delta"]),
    ],
)
def test_it_orders_by_the_allowed_fields(viewer_client, library, ordering, expected):
    assert ids(viewer_client.get(URL, {"ordering": ordering})) == [library[name].id for name in expected]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "books_owned"}, "ordering"),
        ({"ordering": "-id"}, "ordering"),
        ({"completion_status": "finished"}, "completion_status"),
        ({"author": "abc"}, "author"),
        ({"author": "1.5"}, "author"),
        ({"min_completion": "lots"}, "min_completion"),
    ],
)
def test_bad_query_values_are_validation_errors(viewer_client, params, field):
    response = viewer_client.get(URL, params)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["context"]["validation_errors"][0]["loc"] == ["query", field]
