"""Django-admin changes to users and API keys are audited, never with a password or key hash."""

import json
import re

import pytest
from django.urls import reverse

from mamcrawler.accounts.models import ApiKey, User
from mamcrawler.accounts.services import api_key_create
from mamcrawler.audit.models import AuditLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase-42"


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_staff=True, is_superuser=True, role="admin")


@pytest.fixture
def site(client, superuser):
    client.force_login(superuser)
    return client


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _user_form(user, **changes):
    data = {
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "is_active": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2024-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    data.update(changes)
    return data


def test_changing_a_user_in_the_admin_writes_an_entry(site, superuser):
    user = UserFactory(username="someone", role="viewer")

    response = site.post(
        _url(User, "change", user.pk), _user_form(user, role="editor"), HTTP_X_REQUEST_ID="req-admin-1"
    )

    assert response.status_code == 302, response.context["errors"] if response.context else response
    entry = AuditLog.objects.get()
    assert entry.action == "admin/users.admin_update"
    assert (entry.object_type, entry.object_id) == ("accounts.user", str(user.pk))
    assert entry.user == superuser
    assert entry.changes["role"] == "editor"
    assert (entry.ip, entry.request_id) == ("127.0.0.1", "req-admin-1")


def test_adding_a_user_and_setting_a_password_store_no_password_or_hash(site):
    site.post(
        _url(User, "add"),
        {
            "username": "newbie",
            "email": "newbie@example.test",
            "role": "editor",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    user = User.objects.get(username="newbie")
    changed = site.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": PASSWORD + "x", "password2": PASSWORD + "x"},
    )
    assert changed.status_code == 302
    user.refresh_from_db()
    assert user.check_password(PASSWORD + "x")

    rows = list(AuditLog.objects.order_by("id").values())
    assert [row["action"] for row in rows] == ["admin/users.admin_create", "admin/users.admin_update"]
    assert rows[0]["changes"]["password1"] == "***" and rows[0]["changes"]["role"] == "editor"
    dumped = json.dumps(rows, default=str)
    assert PASSWORD not in dumped and user.password not in dumped


def test_deleting_a_user_in_the_admin_writes_an_entry(site):
    user = UserFactory(username="leaving")

    site.post(_url(User, "delete", user.pk), {"post": "yes"})

    entry = AuditLog.objects.get()
    assert (entry.action, entry.object_id) == ("admin/users.admin_delete", str(user.pk))


def test_api_key_admin_changes_are_audited_without_the_secret(site):
    owner = UserFactory(username="owner")
    response = site.post(
        _url(ApiKey, "add"),
        {"name": "from admin", "user": owner.pk, "scopes": ["read"], "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    key = ApiKey.objects.get()
    secret = re.findall(rf"{re.escape(key.prefix)}[A-Za-z0-9_-]+", response.content.decode())[0]
    other, _ = api_key_create(user=owner, name="other", scopes=["read"])
    site.post(_url(ApiKey, "changelist"), {"action": "revoke_keys", "_selected_action": [other.pk]})

    rows = list(AuditLog.objects.order_by("id").values())
    assert [(row["action"], row["object_id"]) for row in rows] == [
        ("admin/api-keys.admin_create", str(key.pk)),
        ("admin/api-keys.admin_revoke", str(other.pk)),
    ]
    assert rows[0]["changes"] == {"name": "from admin", "user": owner.pk, "scopes": ["read"]}
    dumped = json.dumps(rows, default=str)
    assert secret not in dumped and key.hashed_key not in dumped
