"""The issue's "done when", over real HTTP against a live server, as a new user would try it."""

import httpx
import pytest

from mamcrawler.accounts.models import User
from mamcrawler.accounts.services import api_key_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_password():
    User.objects.create_superuser("admin", "", "first-admin-pw", role="admin")
    return "first-admin-pw"


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        yield client


def _token(http, username, password):
    response = http.post("/api/v1/auth/token/", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access']}"}


def test_a_new_user_builds_a_series_and_pages_through_books(http, admin_password):
    auth = _token(http, "admin", admin_password)

    author = http.post("/api/v1/authors/", json={"name": "Sanderson, Brandon"}, headers=auth)
    assert author.status_code == 201, author.text
    assert author.json()["name"] == "Brandon Sanderson"
    series = http.post(
        "/api/v1/series/", json={"name": "The Stormlight Archive", "authors": [author.json()["id"]]}, headers=auth
    )
    assert series.status_code == 201, series.text
    series_id = series.json()["id"]

    for title, label in [
        ("Oathbringer", "3-4"),
        ("Edgedancer", "2.5"),
        ("The Way of Kings", "1"),
        ("Words of Radiance", "2"),
    ]:
        created = http.post(
            "/api/v1/books/",
            json={
                "title": title,
                "authors": [author.json()["id"]],
                "series": [{"series": series_id, "position": label}],
            },
            headers=auth,
        )
        assert created.status_code == 201, created.text

    in_order = http.get(f"/api/v1/series/{series_id}/books/", headers=auth).json()["results"]
    assert [(b["title"], b["position_label"]) for b in in_order] == [
        ("The Way of Kings", "1"),
        ("Words of Radiance", "2"),
        ("Edgedancer", "2.5"),
        ("Oathbringer", "3-4"),
    ]
    filtered = http.get("/api/v1/books/", params={"series": series_id, "search": "radiance"}, headers=auth).json()
    assert [b["title"] for b in filtered["results"]] == ["Words of Radiance"]

    for number in range(116):
        http.post("/api/v1/books/", json={"title": f"Filler {number:03d}", "authors": ["Someone Else"]}, headers=auth)
    seen = []
    url = "/api/v1/books/?limit=50&offset=0&ordering=title"
    while url:
        page = http.get(url, headers=auth).json()
        assert page["count"] == 120
        seen.extend(book["id"] for book in page["results"])
        url = page["next"]
    assert len(seen) == len(set(seen)) == 120


def test_scopes_roles_and_missing_credentials(http, admin_password):
    admin = User.objects.get(username="admin")
    _key, read_secret = api_key_create(user=admin, name="reader script", scopes=["read"])
    key_auth = {"X-Api-Key": read_secret}
    assert http.get("/api/v1/books/", headers=key_auth).status_code == 200
    refused = http.post("/api/v1/books/", json={"title": "Nope"}, headers=key_auth)
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"

    missing = http.get("/api/v1/books/")
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthorized"
    assert missing.headers["X-Request-ID"].startswith("req_")

    User.objects.create_user("reader", password="reader-pw-123", role="viewer")
    reader = _token(http, "reader", "reader-pw-123")
    assert http.get("/api/v1/books/", headers=reader).status_code == 200
    denied = http.post("/api/v1/books/", json={"title": "Nope"}, headers=reader)
    assert denied.status_code == 403
    assert denied.json()["error"] == "forbidden"

    unknown = http.get("/api/v1/no-such-thing/", headers=reader)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "not_found"
