"""Findings of the schema fuzz (tests/fuzz) in the library API, one test each."""

import pytest

from tests.factories import BookFactory

pytestmark = pytest.mark.django_db

BIGGEST = 2**63 - 1  # what library/import/ accepts for size_bytes


def test_book_stats_add_up_sizes_past_64_bits(viewer_client):
    # SQLite's integer SUM raised "integer overflow", a 500.
    BookFactory(size_bytes=BIGGEST)
    BookFactory(size_bytes=BIGGEST)
    response = viewer_client.get("/api/v1/books/stats/")
    assert response.status_code == 200
    assert response.json()["total_size_bytes"] >= BIGGEST


@pytest.mark.parametrize(("url", "field"), [("/api/v1/authors/", "books_known"), ("/api/v1/series/", "total_known")])
def test_known_counts_stay_within_the_column_on_every_database(editor_client, url, field):
    # SQLite took 2**63 - 1, and the completion summaries' SUM overflowed.
    response = editor_client.post(url, {"name": "Huge", field: 2_147_483_648}, format="json")
    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["body", field]
    response = editor_client.post(url, {"name": "Large", field: 2_147_483_647}, format="json")
    assert response.status_code == 201


def test_the_json_export_is_documented_as_the_library_file(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    content = schema["paths"]["/api/v1/library/export/"]["get"]["responses"]["200"]["content"]
    ref = content["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"format", "version", "exported_at", "authors", "series", "books"} <= set(component["properties"])
    assert content["text/csv"]["schema"] == {"type": "string", "format": "binary"}


@pytest.mark.parametrize(("scope", "field"), [("series", "series_ids"), ("authors", "author_ids")])
def test_gap_analysis_refuses_ids_beyond_64_bits(editor_client, scope, field):
    # The id__in lookup raised OverflowError, a 500.
    body = {"scope": scope, field: [2**64]}
    response = editor_client.post("/api/v1/gaps/analyze/", body, format="json")
    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["body", field, 0]
