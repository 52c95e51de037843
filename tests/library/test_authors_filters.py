"""Filters, search and ordering of ``GET /api/v1/authors/``."""

import pytest

from tests.factories import AuthorFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/authors/"


def ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def people():
    """Three authors whose sort names, owned and missing counts all differ."""
    return {
        "atwood": AuthorFactory(
            name="Margaret Atwood", books_owned=5, books_missing=0, completion_status="complete", monitored=True
        ),
        "butler": AuthorFactory(name="Octavia Butler", books_owned=1, books_missing=6, completion_status="incomplete"),
        "clarke": AuthorFactory(name="Susanna Clarke", books_owned=2, books_missing=1, completion_status="partial"),
    }


def test_without_ordering_authors_come_by_sort_name(viewer_client, people):
    assert ids(viewer_client.get(URL)) == [people[key].id for key in ("atwood", "butler", "clarke")]


def test_it_filters_by_monitored(viewer_client, people):
    assert ids(viewer_client.get(URL, {"monitored": "true"})) == [people["atwood"].id]
    assert ids(viewer_client.get(URL, {"monitored": "false"})) == [people["butler"].id, people["clarke"].id]


def test_it_filters_by_a_minimum_of_owned_books(viewer_client, people):
    assert ids(viewer_client.get(URL, {"min_books": 2})) == [people["atwood"].id, people["clarke"].id]


def test_it_filters_by_completion_status(viewer_client, people):
    assert ids(viewer_client.get(URL, {"completion_status": "partial"})) == [people["clarke"].id]
    both = ids(viewer_client.get(URL, {"completion_status": ["partial", "complete"]}))
    assert both == [people["atwood"].id, people["clarke"].id]


def test_it_searches_names(viewer_client, people):
    assert ids(viewer_client.get(URL, {"search": "octavia"})) == [people["butler"].id]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["atwood", "butler", "clarke"]),
        ("-name", ["clarke", "butler", "atwood"]),
        ("books_owned", ["butler", "clarke", "atwood"]),
        ("-books_owned", ["atwood", "clarke", "butler"]),
        ("missing", ["atwood", "clarke", "butler"]),
        ("-missing", ["butler", "clarke", "atwood"]),
    ],
)
def test_it_orders_by_the_allowed_fields(viewer_client, people, ordering, expected):
    assert ids(viewer_client.get(URL, {"ordering": ordering})) == [people[key].id for key in expected]


def test_name_ordering_uses_the_sort_name(viewer_client):
    zed = AuthorFactory(name="Aaron Zed")
    abe = AuthorFactory(name="Zoe Abe")
    assert ids(viewer_client.get(URL, {"ordering": "name"})) == [abe.id, zed.id]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "sort_name"}, "ordering"),
        ({"ordering": "books_known"}, "ordering"),
        ({"completion_status": "done"}, "completion_status"),
        ({"min_books": "many"}, "min_books"),
        ({"min_books": "-1"}, "min_books"),
    ],
)
def test_bad_query_values_are_validation_errors(viewer_client, params, field):
    response = viewer_client.get(URL, params)
    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["query", field]
