"""The flat error body (SPEC §5.1) and request ids (§5.2) on real endpoints."""

import re

import pytest

ERROR_KEYS = {"error", "code", "message", "status_code", "detail", "context", "timestamp", "request_id"}
GENERATED_ID = re.compile(r"^req_[0-9a-f]{12}$")

pytestmark = pytest.mark.django_db


def assert_error(response, status_code, error):
    assert response.status_code == status_code
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["error"] == error
    assert body["code"] == error.upper()
    assert body["status_code"] == status_code
    assert isinstance(body["message"], str) and body["message"]
    assert body["context"] is None or body["context"]  # never an empty object
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", body["timestamp"])
    assert body["request_id"] == response["X-Request-ID"]
    return body


def test_an_unauthenticated_request_is_401_with_a_generated_request_id(api_client):
    response = api_client.get("/api/v1/books/")

    assert_error(response, 401, "unauthorized")
    assert GENERATED_ID.match(response["X-Request-ID"])


def test_a_safe_incoming_request_id_is_kept(api_client):
    response = api_client.get("/api/v1/books/", HTTP_X_REQUEST_ID="client-42.retry:1_A")

    assert response["X-Request-ID"] == "client-42.retry:1_A"
    assert response.json()["request_id"] == "client-42.retry:1_A"


@pytest.mark.parametrize("incoming", ["has space", "semi;colon", "<script>", "x" * 129, "ünï"])
def test_an_unsafe_incoming_request_id_is_replaced(api_client, incoming):
    response = api_client.get("/api/v1/books/", HTTP_X_REQUEST_ID=incoming)

    assert GENERATED_ID.match(response["X-Request-ID"])
    assert response.json()["request_id"] == response["X-Request-ID"]


def test_a_successful_response_carries_the_request_id_too(viewer_client):
    response = viewer_client.get("/api/v1/auth/me/", HTTP_X_REQUEST_ID="ok-1")

    assert response.status_code == 200
    assert response["X-Request-ID"] == "ok-1"


def test_malformed_json_is_400_malformed_request(api_client):
    response = api_client.post("/api/v1/auth/token/", data='{"username": "a", ', content_type="application/json")

    body = assert_error(response, 400, "malformed_request")
    assert body["detail"]


def test_an_unsupported_method_is_405(viewer_client):
    response = viewer_client.delete("/api/v1/auth/me/")

    assert_error(response, 405, "method_not_allowed")


def test_an_unsupported_media_type_is_415(api_client):
    response = api_client.post("/api/v1/auth/token/", data="username=a", content_type="text/plain")

    assert_error(response, 415, "unsupported_media_type")


def test_an_unknown_book_is_404_not_found(viewer_client):
    response = viewer_client.get("/api/v1/books/987654/")

    assert_error(response, 404, "not_found")


def test_a_validation_error_is_422_with_locations(api_client):
    response = api_client.post("/api/v1/auth/token/", {}, format="json")

    body = assert_error(response, 422, "validation_error")
    locs = sorted(entry["loc"] for entry in body["context"]["validation_errors"])
    assert locs == [["body", "password"], ["body", "username"]]
    assert body["context"]["error_count"] == 2
    assert all(entry["msg"] and entry["type"] for entry in body["context"]["validation_errors"])


def test_a_forbidden_request_is_403(viewer_client):
    response = viewer_client.post("/api/v1/authors/", {"name": "Somebody"}, format="json")

    assert_error(response, 403, "forbidden")
