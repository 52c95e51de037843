"""``GET /api/v1/library/export/`` and ``POST /api/v1/library/import/`` (SPEC §9, §6.3 upload tier)."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve

from library.api.views.transfer import LibraryExportView, LibraryImportView
from library.models import Book
from library.services.transfer import library_export
from tests.library.transfer_library import build_library, library_dump, wipe_library

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/library/export/"
IMPORT = "/api/v1/library/import/"


def _body(response) -> str:
    return b"".join(response.streaming_content).decode()


def _upload(client, content: bytes | str, name="library.json", **fields):
    if isinstance(content, str):
        content = content.encode()
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, content), **fields}, format="multipart")


def _locs(response) -> list:
    return [error["loc"] for error in response.json()["context"]["validation_errors"]]


def test_the_routes_resolve_under_api_v1():
    assert resolve(EXPORT).func.view_class is LibraryExportView
    assert resolve(IMPORT).func.view_class is LibraryImportView


# --- export ------------------------------------------------------------------------------------


def test_a_viewer_downloads_the_library_as_json(viewer_client):
    build_library()

    response = viewer_client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="mamcrawler-library-')
    assert response["Content-Disposition"].endswith('.json"')
    assert response["X-RateLimit-Limit"]
    document = json.loads(_body(response))
    assert document["format"] == "mamcrawler-library"
    assert len(document["books"]) == 6


def test_format_csv_gives_the_csv_file_even_when_the_client_accepts_only_csv(viewer_client):
    build_library()

    response = viewer_client.get(EXPORT, {"format": "csv"}, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(_body(response), newline="")))
    assert len(rows) == 6


def test_an_unknown_format_is_refused_at_the_query_parameter(viewer_client):
    response = viewer_client.get(EXPORT, {"format": "xml"})

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert _locs(response) == [["query", "format"]]


def test_export_needs_authentication(api_client):
    response = api_client.get(EXPORT)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


# --- import ------------------------------------------------------------------------------------


def test_an_editor_imports_an_export_into_an_empty_library(editor_client):
    build_library()
    before = library_dump()
    exported = library_export(fmt="json")
    wipe_library()

    response = _upload(editor_client, exported)

    assert response.status_code == 200, response.json()
    report = response.json()
    assert (report["created"], report["updated"], report["unchanged"], report["errors"]) == (6, 0, 0, [])
    assert report["authors"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert report["dry_run"] is False
    assert library_dump() == before


def test_importing_the_csv_export_again_changes_nothing(editor_client):
    build_library()
    exported = editor_client.get(EXPORT, {"format": "csv"})

    response = _upload(editor_client, _body(exported), name="whatever.txt")

    assert response.status_code == 200
    assert (response.json()["unchanged"], response.json()["created"]) == (6, 0)
    assert Book.objects.count() == 6


def test_import_counts_against_the_upload_tier(editor_client, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "upload": "2/minute"}
    text = library_export(fmt="json")

    statuses = [_upload(editor_client, text).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert LibraryImportView().get_throttle_tier() == "upload"


def test_a_dry_run_answers_the_report_and_saves_nothing(editor_client):
    text = json.dumps({"books": [{"title": "Dry", "authors": ["Ann Author"]}]})

    response = _upload(editor_client, text, dry_run="true")

    assert response.status_code == 200
    assert (response.json()["created"], response.json()["dry_run"]) == (1, True)
    assert not Book.objects.exists()


def test_invalid_books_are_listed_in_the_report(editor_client):
    text = "title,published_year\nGood,2001\nBad,soon\n"

    response = _upload(editor_client, text, name="books.csv")

    assert response.status_code == 200
    assert response.json()["created"] == 1
    assert response.json()["errors"] == [{"row": 2, "loc": ["published_year"], "msg": "A valid integer is required."}]


def test_a_viewer_may_not_import(viewer_client):
    response = _upload(viewer_client, "{}")

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_import_needs_authentication(api_client):
    response = _upload(api_client, "{}")

    assert response.status_code == 401


def test_a_file_over_10_mib_is_refused(editor_client):
    response = _upload(editor_client, b" " * (10 * 1024 * 1024 + 1))

    assert response.status_code == 422
    assert _locs(response) == [["body", "file"]]
    assert not Book.objects.exists()


def test_a_much_larger_body_is_refused_before_it_is_read(editor_client):
    response = editor_client.generic(
        "POST", IMPORT, b"", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(50 * 1024 * 1024)
    )

    assert response.status_code == 422
    assert _locs(response) == [["body", "file"]]


@pytest.mark.parametrize(
    ("content", "name", "loc"),
    [
        ('{"books": [', "library.json", ["body", "file"]),
        ('{"format": "other", "books": []}', "library.json", ["body", "file", "format"]),
        ('{"books": [{"title": "a"}, 7]}', "library.json", ["body", "file", "row", 2]),
        ("title,isbn\nA,1\nB,2,3\n", "library.csv", ["body", "file", "row", 2]),
        ("title,colour\nA,red\n", "library.csv", ["body", "file", "header"]),
    ],
)
def test_a_malformed_file_answers_422_with_where_it_breaks(editor_client, content, name, loc):
    response = _upload(editor_client, content, name=name)

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert _locs(response) == [loc]
    assert body["context"]["validation_errors"][0]["type"] == "malformed_file"


def test_an_unknown_format_field_is_refused(editor_client):
    response = _upload(editor_client, "{}", format="xml")

    assert response.status_code == 422
    assert _locs(response) == [["body", "format"]]


def test_a_missing_file_is_refused(editor_client):
    response = editor_client.post(IMPORT, {"format": "json"}, format="multipart")

    assert response.status_code == 422
    assert _locs(response) == [["body", "file"]]


def test_a_json_body_is_an_unsupported_media_type(editor_client):
    response = editor_client.post(IMPORT, {"file": "x"}, format="json")

    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
