"""``auth/me/``: who is asking, with which effective role, authenticated how."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from mamcrawler.accounts.services import api_key_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_me_over_jwt_reports_the_user_and_method(api_client):
    user = UserFactory(username="ed", role="editor")
    access = api_client.post(
        "/api/v1/auth/token/", {"username": "ed", "password": "correct-horse-battery"}, format="json"
    ).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    body = api_client.get("/api/v1/auth/me/").json()

    assert body["id"] == user.id
    assert body["username"] == "ed"
    assert body["email"] == "ed@example.test"
    assert body["role"] == "editor"
    assert body["is_active"] is True
    assert body["last_login"].endswith("Z")
    assert body["date_joined"].endswith("Z")
    assert body["auth"] == {"method": "jwt", "scopes": None}
    assert "password" not in body


def test_me_over_an_api_key_shows_scopes_and_the_capped_role():
    admin = UserFactory(username="root", role="admin")
    _key, secret = api_key_create(user=admin, name="script", scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=secret)

    body = client.get("/api/v1/auth/me/").json()

    assert body["username"] == "root"
    assert body["role"] == "viewer"
    assert body["auth"] == {"method": "api_key", "scopes": ["read"]}


def test_me_over_a_session_login():
    UserFactory(username="browser", role="viewer")
    client = APIClient()
    assert client.login(username="browser", password="correct-horse-battery")

    body = client.get("/api/v1/auth/me/").json()

    assert body["username"] == "browser"
    assert body["auth"] == {"method": "session", "scopes": None}


def test_a_superuser_is_an_admin_whatever_the_role_column_says():
    UserFactory(username="su", role="viewer", is_superuser=True)
    client = APIClient()
    client.login(username="su", password="correct-horse-battery")

    assert client.get("/api/v1/auth/me/").json()["role"] == "admin"


def test_me_without_credentials_is_401(api_client):
    response = api_client.get("/api/v1/auth/me/")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_session_writes_need_the_csrf_token():
    UserFactory(username="browser")
    client = Client(enforce_csrf_checks=True)
    client.login(username="browser", password="correct-horse-battery")

    response = client.post("/api/v1/auth/logout/", {"refresh": "x"}, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
