"""Findings of the schema fuzz (tests/fuzz) in the shared API plumbing, one test each."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_a_post_to_an_unknown_route_with_a_session_cookie_answers_the_json_404(admin_user):
    # The catch-all view was not CSRF-exempt: Django's HTML "403 CSRF" page answered instead.
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post("/api/v1/books/0.5/lock/", {"fields": ["asin"]})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"


def test_a_body_with_too_many_fields_is_a_malformed_request(admin_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    response = admin_client.post("/api/v1/books/bulk/", {"ids": list(range(10))}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_request"


def test_a_token_request_without_a_client_address_is_not_a_server_error():
    # REMOTE_ADDR is optional in WSGI; django-ratelimit's "ip" key raised without it.
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "nobody", "password": "wrong"}, format="json", REMOTE_ADDR=""
    )
    assert response.status_code == 401


def test_an_integer_filter_beyond_64_bits_is_a_validation_error(admin_client):
    response = admin_client.get("/api/v1/metadata/corrections/", {"book": "-23281249166918082560"})
    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["query", "book"]


def test_every_documented_error_response_carries_the_error_body(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in schema["paths"].items():
        if path.startswith("/health/"):  # an unhealthy 503 answers the health report itself
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            for status, response in responses.items():
                if status[0] in "45":
                    assert response["content"]["application/json"]["schema"] == ref, (method, path, status)
            has_parameters = any(p["in"] in ("path", "query") for p in operation.get("parameters", []))
            if has_parameters and path != "/api/schema/":
                assert "422" in responses, (method, path)


def test_writes_document_the_unsupported_media_type_answer(api_client, admin_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    assert "415" in schema["paths"]["/api/v1/downloads/{id}/mark-failed/"]["post"]["responses"]
    response = admin_client.post("/api/v1/downloads/1/mark-failed/", b"<x/>", content_type="application/xml")
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
