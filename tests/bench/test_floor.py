"""The data-access floor of the API bench answers exactly what the books list answers (SPEC §12).

The bench compares requests/s of the two, so they must do the same work: same page, fields,
order, nested lists and envelope. Only the floor's path differs in ``next``/``previous``.
"""

import json

import pytest

from bench.floor import FLOOR_PATH
from bench.library import generate

pytestmark = pytest.mark.django_db

API_PATH = "/api/v1/books/"


@pytest.fixture
def bench_urls(settings):
    settings.ROOT_URLCONF = "bench.urls"


@pytest.fixture
def library(db):
    return generate(books=130)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 50},
        {"limit": 50, "offset": 50},
        {"limit": 50, "offset": 100},
        {"limit": 7, "offset": 3},
        {"limit": 500},
        {},
        {"limit": "nonsense", "offset": "-4"},
    ],
    ids=["first", "second", "last", "odd", "max", "default", "bad-params"],
)
def test_the_floor_answers_the_same_page_as_the_books_list(bench_urls, library, viewer_client, client, params):
    expected = viewer_client.get(API_PATH, params)
    floor = client.get(FLOOR_PATH, params)

    assert expected.status_code == floor.status_code == 200
    assert json.loads(floor.content.decode().replace(FLOOR_PATH, API_PATH)) == expected.json()


def test_the_generated_page_has_every_kind_of_relation(bench_urls, library, viewer_client):
    results = viewer_client.get(API_PATH, {"limit": 500}).json()["results"]

    assert len(results) == library["books"] == 130
    assert any(len(book["authors"]) == 2 for book in results)
    assert any(not book["narrators"] for book in results) and any(len(book["narrators"]) == 2 for book in results)
    labels = {entry["position_label"] for book in results for entry in book["series"]}
    assert any("-" in label for label in labels) and any(".5" in label for label in labels) and "" in labels


def test_the_floor_is_not_routed_in_production(client):
    assert client.get(FLOOR_PATH).status_code == 404
