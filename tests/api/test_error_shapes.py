"""Every error status answers the flat body of SPEC §5.1, over real HTTP against a live server."""

import logging
import re

import httpx
import pytest
from django.test import override_settings

from mamcrawler.accounts.models import User
from tests.factories import AuthorFactory, BookFactory

pytestmark = pytest.mark.django_db(transaction=True)

KEYS = {"error", "code", "message", "status_code", "detail", "context", "timestamp", "request_id"}


def assert_error(response: httpx.Response, status: int, error: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == KEYS
    assert body["error"] == error
    assert body["code"] == error.upper()
    assert body["status_code"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert body["detail"] is None or isinstance(body["detail"], str)
    assert body["context"] is None or (isinstance(body["context"], dict) and body["context"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", body["timestamp"])
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.text
    return body


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        yield client


@pytest.fixture
def editor(http):
    User.objects.create_user("ed", password="editor-pw-123", role="editor")
    access = http.post("/api/v1/auth/token/", json={"username": "ed", "password": "editor-pw-123"}).json()["access"]
    return {"Authorization": f"Bearer {access}"}


@pytest.fixture
def viewer(http):
    User.objects.create_user("vi", password="viewer-pw-123", role="viewer")
    access = http.post("/api/v1/auth/token/", json={"username": "vi", "password": "viewer-pw-123"}).json()["access"]
    return {"Authorization": f"Bearer {access}"}


def test_400_malformed_json(http, editor):
    response = http.post(
        "/api/v1/books/", content=b'{"title": ', headers={**editor, "Content-Type": "application/json"}
    )
    assert_error(response, 400, "malformed_request")


def test_401_without_credentials(http):
    assert_error(http.get("/api/v1/books/"), 401, "unauthorized")


def test_401_invalid_token(http):
    body = assert_error(http.get("/api/v1/books/", headers={"Authorization": "Bearer not.a.jwt"}), 401, "invalid_token")
    assert body["message"]


def test_401_expired_token(http, settings):
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    user = User.objects.create_user("late", password="late-pw-123")
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=5))
    assert_error(http.get("/api/v1/books/", headers={"Authorization": f"Bearer {token}"}), 401, "token_expired")


def test_403_forbidden_for_a_viewer_writing(http, viewer):
    assert_error(http.post("/api/v1/books/", json={"title": "x"}, headers=viewer), 403, "forbidden")


def test_404_unknown_route_is_json(http, viewer):
    body = assert_error(http.get("/api/v1/definitely-not-here/", headers=viewer), 404, "not_found")
    assert "/api/v1/definitely-not-here/" in body["detail"]


def test_404_unknown_route_outside_v1_is_json_too(http):
    assert_error(http.get("/api/nothing"), 404, "not_found")


def test_404_unknown_object(http, viewer):
    assert_error(http.get("/api/v1/books/424242/", headers=viewer), 404, "not_found")


def test_405_method_not_allowed(http, editor):
    assert_error(http.put("/api/v1/books/stats/", json={}, headers=editor), 405, "method_not_allowed")


def test_409_conflict_on_a_duplicate_author(http, editor):
    AuthorFactory(name="Ursula K. Le Guin")
    assert_error(http.post("/api/v1/authors/", json={"name": "ursula k. le guin"}, headers=editor), 409, "conflict")


def test_415_unsupported_media_type(http, editor):
    response = http.post("/api/v1/books/", content=b"<book/>", headers={**editor, "Content-Type": "application/xml"})
    assert_error(response, 415, "unsupported_media_type")


def test_422_body_validation_lists_each_error(http, editor):
    body = assert_error(
        http.post("/api/v1/books/", json={"title": "", "published_year": "soon"}, headers=editor),
        422,
        "validation_error",
    )
    errors = body["context"]["validation_errors"]
    assert body["context"]["error_count"] == len(errors) >= 2
    assert {tuple(e["loc"]) for e in errors} >= {("body", "title"), ("body", "published_year")}
    assert all(set(e) == {"loc", "msg", "type"} for e in errors)


def test_422_query_validation(http, viewer):
    body = assert_error(http.get("/api/v1/books/?ordering=nonsense", headers=viewer), 422, "validation_error")
    assert body["context"]["validation_errors"][0]["loc"][:2] == ["query", "ordering"]


def test_422_path_validation(http, viewer):
    body = assert_error(http.get("/api/v1/books/99999999999999999999999/", headers=viewer), 422, "validation_error")
    assert body["context"]["validation_errors"][0]["loc"] == ["path", "pk"]


def test_429_rate_limited(http, viewer, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "read": "1/minute"}
    http.get("/api/v1/books/", headers=viewer)
    response = http.get("/api/v1/books/", headers=viewer)
    body = assert_error(response, 429, "rate_limit_exceeded")
    assert response.headers["Retry-After"] == str(body["context"]["retry_after"])


@override_settings(DEBUG=False)
def test_500_hides_the_exception_and_logs_it_with_the_request_id(http, viewer, monkeypatch, caplog):
    from library.api.views import books

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(books.selectors, "book_stats", explode)
    BookFactory(authors=[AuthorFactory()])
    with caplog.at_level(logging.ERROR, logger="mamcrawler.api"):
        response = http.get("/api/v1/books/stats/", headers={**viewer, "X-Request-ID": "trace-me-500"})
    body = assert_error(response, 500, "internal_error")
    assert "secret internals" not in response.text
    assert body["context"] is None
    logged = [r for r in caplog.records if r.name == "mamcrawler.api"]
    assert logged and logged[0].exc_info and logged[0].request_id == "trace-me-500"
