"""API keys: ``X-Api-Key`` authentication, expiry and revocation, hashed storage, last use."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from mamcrawler.accounts.models import ApiKey
from mamcrawler.accounts.services import PREFIX_LENGTH, api_key_create, api_key_revoke
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory(username="scripter", role="editor")


def key_client(secret):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=secret)
    return client


def test_a_valid_key_authenticates(owner):
    _key, secret = api_key_create(user=owner, name="cron", scopes=["read"])

    response = key_client(secret).get("/api/v1/auth/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "scripter"


@pytest.mark.parametrize("secret", ["mc_definitely-not-a-real-key-0000000000000", "short", "x" * 500])
def test_an_unknown_key_is_401(owner, secret):
    api_key_create(user=owner, name="cron", scopes=["read"])

    response = key_client(secret).get("/api/v1/auth/me/")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response["WWW-Authenticate"] == "X-Api-Key"


def test_a_key_with_the_right_prefix_but_wrong_secret_is_401(owner):
    _key, secret = api_key_create(user=owner, name="cron", scopes=["read"])
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")

    assert key_client(tampered).get("/api/v1/auth/me/").status_code == 401


def test_a_revoked_key_is_401(owner):
    key, secret = api_key_create(user=owner, name="cron", scopes=["read"])
    api_key_revoke(key=key)

    response = key_client(secret).get("/api/v1/auth/me/")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_an_expired_key_is_401(owner):
    _key, secret = api_key_create(
        user=owner, name="cron", scopes=["read"], expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert key_client(secret).get("/api/v1/auth/me/").status_code == 401


def test_a_key_not_yet_expired_works(owner):
    _key, secret = api_key_create(
        user=owner, name="cron", scopes=["read"], expires_at=timezone.now() + timedelta(days=1)
    )

    assert key_client(secret).get("/api/v1/auth/me/").status_code == 200


def test_the_key_of_an_inactive_user_is_401(owner):
    _key, secret = api_key_create(user=owner, name="cron", scopes=["read"])
    owner.is_active = False
    owner.save()

    assert key_client(secret).get("/api/v1/auth/me/").status_code == 401


def test_only_the_sha256_of_the_secret_is_stored(owner):
    key, secret = api_key_create(user=owner, name="cron", scopes=["read", "write"])

    stored = ApiKey.objects.filter(pk=key.pk).values().get()

    assert stored["hashed_key"] == hashlib.sha256(secret.encode()).hexdigest()
    assert stored["prefix"] == secret[:PREFIX_LENGTH]
    assert all(secret not in str(value) for value in stored.values())
    assert len(secret) >= 43  # 32 random bytes, url-safe


def test_last_used_is_written_at_most_once_a_minute(owner):
    key, secret = api_key_create(user=owner, name="cron", scopes=["read"])
    client = key_client(secret)

    client.get("/api/v1/auth/me/")
    key.refresh_from_db()
    first = key.last_used_at
    client.get("/api/v1/auth/me/")
    key.refresh_from_db()

    assert first is not None
    assert key.last_used_at == first

    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(seconds=61))
    client.get("/api/v1/auth/me/")
    key.refresh_from_db()
    assert key.last_used_at > first


def test_a_second_use_within_the_minute_does_not_write(owner, django_assert_num_queries):
    _key, secret = api_key_create(user=owner, name="cron", scopes=["read"])
    client = key_client(secret)
    client.get("/api/v1/auth/me/")

    # 1: the key with its user, looked up by prefix; 2: the throttle counter upsert.
    # No UPDATE of last_used_at.
    with django_assert_num_queries(2) as captured:
        client.get("/api/v1/auth/me/")
    assert not any("last_used_at" in query["sql"] and "UPDATE" in query["sql"] for query in captured.captured_queries)
