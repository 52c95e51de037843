"""Django's own 404/500 handlers answer the JSON error body for /api/ and /health/ paths."""

import json

import pytest
from django.test import RequestFactory

from mamcrawler.api.views import handler404, handler500


@pytest.mark.parametrize("path", ["/api/v1/anything/", "/health/nowhere/"])
def test_404_handler_answers_json_under_the_api(path):
    response = handler404(RequestFactory().get(path), Exception("nope"))
    body = json.loads(response.content)
    assert response.status_code == 404
    assert body["error"] == "not_found"
    assert body["status_code"] == 404


def test_500_handler_answers_json_without_details():
    response = handler500(RequestFactory().get("/api/v1/books/"))
    body = json.loads(response.content)
    assert response.status_code == 500
    assert body["error"] == "internal_error"
    assert body["context"] is None


@pytest.mark.django_db
def test_other_paths_keep_the_html_pages():
    response = handler404(RequestFactory().get("/somewhere/"), Exception("nope"))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
