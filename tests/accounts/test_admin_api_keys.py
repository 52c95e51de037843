"""``/api/v1/admin/api-keys/``: the secret once, prefix afterwards, revoke, delete."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from mamcrawler.accounts.models import ApiKey
from mamcrawler.accounts.services import api_key_create
from mamcrawler.audit.models import AuditLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/api-keys/"
LISTED = {
    "id",
    "name",
    "user",
    "username",
    "prefix",
    "scopes",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
    "is_active",
}


def _with_key(secret):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=secret)
    return client


def test_create_shows_the_secret_once_and_it_works_until_revoked(admin_client, admin_user):
    response = admin_client.post(URL, {"name": "cron", "scopes": ["read", "write"]}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == LISTED | {"key"}
    secret = body["key"]
    key = ApiKey.objects.get(pk=body["id"])
    assert key.user == admin_user and key.scopes == ["read", "write"]
    assert key.hashed_key == ApiKey.hash_secret(secret) and secret.startswith(body["prefix"])
    listed = admin_client.get(URL).json()["results"]
    shown = admin_client.get(f"{URL}{key.pk}/").json()
    assert set(listed[0]) == LISTED and set(shown) == LISTED
    assert secret not in json.dumps([listed, shown]) and key.hashed_key not in json.dumps([listed, shown])

    assert _with_key(secret).get("/api/v1/auth/me/").status_code == 200
    revoked = admin_client.post(f"{URL}{key.pk}/revoke/")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None and revoked.json()["is_active"] is False
    assert _with_key(secret).get("/api/v1/auth/me/").status_code == 401


def test_an_admin_creates_a_key_for_another_user(admin_client):
    owner = UserFactory(role="editor")

    response = admin_client.post(
        URL,
        {"name": "for editor", "scopes": ["write"], "user": owner.pk, "expires_at": "2999-01-01T00:00:00Z"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["user"] == owner.pk and response.json()["username"] == owner.username
    me = _with_key(response.json()["key"]).get("/api/v1/auth/me/").json()
    assert me["username"] == owner.username and me["role"] == "editor"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": "x", "scopes": []}, ["body", "scopes"]),
        ({"name": "x", "scopes": ["root"]}, ["body", "scopes", 0]),
        ({"scopes": ["read"]}, ["body", "name"]),
        ({"name": "x", "scopes": ["read"], "user": 999999}, ["body", "user"]),
        ({"name": "x", "scopes": ["read"], "expires_at": "2000-01-01T00:00:00Z"}, ["body", "expires_at"]),
    ],
)
def test_create_refuses_bad_input_with_422(admin_client, body, loc):
    response = admin_client.post(URL, body, format="json")

    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["context"]["validation_errors"]]
    assert not ApiKey.objects.exists()


def test_the_list_filters_by_owner_and_revocation(admin_client, admin_user):
    owner = UserFactory()
    mine, _ = api_key_create(user=admin_user, name="mine", scopes=["read"])
    theirs, _ = api_key_create(user=owner, name="theirs", scopes=["read"])
    admin_client.post(f"{URL}{theirs.pk}/revoke/")

    def names(**params):
        return [row["name"] for row in admin_client.get(URL, params).json()["results"]]

    assert names(user=owner.pk) == ["theirs"]
    assert names(revoked="true") == ["theirs"]
    assert names(revoked="false") == ["mine"]
    assert names(search="thei") == ["theirs"]
    assert names(ordering="name") == ["mine", "theirs"]


def test_delete_removes_the_key_and_its_secret_stops_working(admin_client, admin_user):
    key, secret = api_key_create(user=admin_user, name="gone", scopes=["read"])

    assert admin_client.delete(f"{URL}{key.pk}/").status_code == 204
    assert not ApiKey.objects.filter(pk=key.pk).exists()
    assert _with_key(secret).get("/api/v1/auth/me/").status_code == 401


def test_revoking_twice_keeps_the_first_time(admin_client, admin_user):
    key, _ = api_key_create(user=admin_user, name="k", scopes=["read"])
    key.revoked_at = timezone.now() - timedelta(days=1)
    key.save()

    response = admin_client.post(f"{URL}{key.pk}/revoke/")

    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at < timezone.now() - timedelta(hours=23)


def test_the_audit_log_never_holds_the_secret(admin_client, admin_user):
    response = admin_client.post(URL, {"name": "cron", "scopes": ["read"]}, format="json")
    key = ApiKey.objects.get()
    admin_client.post(f"{URL}{key.pk}/revoke/")

    rows = list(AuditLog.objects.order_by("id").values())
    assert [row["action"] for row in rows] == ["admin/api-keys.create", "admin/api-keys.revoke"]
    assert rows[0]["object_type"] == "accounts.apikey" and rows[0]["object_id"] == str(key.pk)
    assert rows[0]["changes"] == {"name": "cron", "scopes": ["read"]}
    dumped = json.dumps(rows, default=str)
    assert response.json()["key"] not in dumped and key.hashed_key not in dumped


def test_viewers_and_editors_cannot_manage_keys(viewer_client, editor_client):
    for client in (viewer_client, editor_client):
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"name": "x", "scopes": ["admin"]}, format="json").status_code == 403


def test_deleting_the_key_in_use_is_still_audited(admin_user):
    key, secret = api_key_create(user=admin_user, name="self", scopes=["admin"])

    response = _with_key(secret).delete(f"{URL}{key.pk}/")

    assert response.status_code == 204
    entry = AuditLog.objects.get()
    assert (entry.action, entry.object_id, entry.user, entry.api_key) == (
        "admin/api-keys.destroy",
        str(key.pk),
        admin_user,
        None,
    )
