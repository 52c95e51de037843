"""JWT obtain, refresh (rotation + blacklist), verify and logout."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"
ERROR_KEYS = {"error", "code", "message", "status_code", "detail", "context", "timestamp", "request_id"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory(username="reader", role="editor")


def obtain(client, username="reader", password=PASSWORD):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def bearer(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_it_issues_an_access_and_refresh_pair_for_good_credentials(api_client, user):
    response = obtain(api_client)

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    user.refresh_from_db()
    assert user.last_login is not None


def test_the_access_token_authenticates(api_client, user):
    access = obtain(api_client).json()["access"]

    response = bearer(access).get("/api/v1/auth/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "reader"


def test_a_wrong_password_is_401_in_the_error_shape(api_client, user):
    response = obtain(api_client, password="nope")

    assert response.status_code == 401
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["error"] == "unauthorized"
    assert body["code"] == "UNAUTHORIZED"
    assert body["status_code"] == 401
    assert body["request_id"] == response["X-Request-ID"]
    assert body["timestamp"].endswith("Z")
    assert "access" not in body


def test_an_inactive_user_gets_no_token(api_client):
    UserFactory(username="gone", is_active=False)

    assert obtain(api_client, username="gone").status_code == 401


def test_a_missing_password_is_422_pointing_at_the_field(api_client, user):
    response = api_client.post("/api/v1/auth/token/", {"username": "reader"}, format="json")

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert [e["loc"] for e in body["context"]["validation_errors"]] == [["body", "password"]]
    assert body["context"]["error_count"] == 1


def test_refresh_rotates_and_the_old_refresh_token_stops_working(api_client, user):
    old = obtain(api_client).json()["refresh"]

    rotated = api_client.post("/api/v1/auth/token/refresh/", {"refresh": old}, format="json")
    reused = api_client.post("/api/v1/auth/token/refresh/", {"refresh": old}, format="json")

    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != old
    assert reused.status_code == 401
    assert reused.json()["error"] == "invalid_token"
    again = api_client.post("/api/v1/auth/token/refresh/", {"refresh": rotated.json()["refresh"]}, format="json")
    assert again.status_code == 200


def test_refresh_with_garbage_is_401_invalid_token(api_client, db):
    response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": "not.a.jwt"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert set(response.json()) == ERROR_KEYS


def test_refresh_with_an_expired_token_is_401_token_expired(api_client, user):
    token = RefreshToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=-5))

    response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": str(token)}, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == "token_expired"


def test_refresh_for_a_deleted_user_is_401(api_client, user):
    refresh = str(RefreshToken.for_user(user))
    user.delete()

    response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_an_expired_access_token_is_401_token_expired(user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=-5))

    response = bearer(str(token)).get("/api/v1/auth/me/")

    assert response.status_code == 401
    assert response.json()["error"] == "token_expired"
    assert response["WWW-Authenticate"]


def test_a_forged_access_token_is_401_invalid_token(user):
    response = bearer("eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJl").get("/api/v1/auth/me/")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_a_refresh_token_is_not_accepted_as_bearer(api_client, user):
    refresh = obtain(api_client).json()["refresh"]

    response = bearer(refresh).get("/api/v1/auth/me/")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_verify_accepts_a_valid_token(api_client, user):
    pair = obtain(api_client).json()

    response = bearer(pair["access"]).post("/api/v1/auth/token/verify/", {"token": pair["refresh"]}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True
    assert body["token_type"] == "refresh"
    assert body["user_id"] == user.id
    assert body["expires_at"].endswith("Z")


def test_verify_rejects_a_blacklisted_token(api_client, user):
    pair = obtain(api_client).json()
    api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")

    response = bearer(pair["access"]).post("/api/v1/auth/token/verify/", {"token": pair["refresh"]}, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_verify_rejects_an_expired_token(api_client, user):
    access = obtain(api_client).json()["access"]
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=timedelta(seconds=-5))

    response = bearer(access).post("/api/v1/auth/token/verify/", {"token": str(expired)}, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == "token_expired"


def test_verify_requires_authentication(api_client, user):
    access = obtain(api_client).json()["access"]

    response = api_client.post("/api/v1/auth/token/verify/", {"token": access}, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_logout_blacklists_the_refresh_token(api_client, user):
    pair = obtain(api_client).json()

    response = bearer(pair["access"]).post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json")

    assert response.status_code == 204
    refreshed = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert refreshed.status_code == 401
    assert refreshed.json()["error"] == "invalid_token"


def test_logout_requires_authentication(api_client, user):
    refresh = obtain(api_client).json()["refresh"]

    response = api_client.post("/api/v1/auth/logout/", {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert api_client.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json").status_code == 200


def test_logout_refuses_another_users_refresh_token(api_client, user):
    other = UserFactory(username="other")
    access = obtain(api_client).json()["access"]
    others_refresh = str(RefreshToken.for_user(other))

    response = bearer(access).post("/api/v1/auth/logout/", {"refresh": others_refresh}, format="json")

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_logout_with_a_bad_token_is_401_and_without_one_is_422(api_client, user):
    access = obtain(api_client).json()["access"]

    bad = bearer(access).post("/api/v1/auth/logout/", {"refresh": "junk"}, format="json")
    missing = bearer(access).post("/api/v1/auth/logout/", {}, format="json")

    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_token"
    assert missing.status_code == 422
    assert missing.json()["context"]["validation_errors"][0]["loc"] == ["body", "refresh"]
