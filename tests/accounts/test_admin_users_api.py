"""``/api/v1/admin/users/``: CRUD with roles, passwords, the last-admin rule and who may use it."""

import json

import pytest

from mamcrawler.accounts.models import User
from mamcrawler.audit.models import AuditLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/users/"
PASSWORD = "a-long-enough-passphrase-42"
FIELDS = {"id", "username", "email", "role", "is_active", "is_superuser", "last_login", "date_joined"}


def _locs(response):
    return [error["loc"] for error in response.json()["context"]["validation_errors"]]


def test_only_admins_reach_the_admin_api(api_client, viewer_client, editor_client, admin_client):
    assert api_client.get(URL).status_code == 401
    assert viewer_client.get(URL).status_code == 403
    assert editor_client.get(URL).status_code == 403
    assert viewer_client.get("/api/v1/admin/").status_code == 403
    assert admin_client.get(URL).status_code == 200
    assert admin_client.get("/api/v1/admin/").status_code == 200


def test_an_admin_scoped_key_works_and_a_write_scoped_one_does_not(api_key_client, admin_user):
    assert api_key_client(admin_user, ["admin"]).get(URL).status_code == 200
    assert api_key_client(admin_user, ["read", "write"]).get(URL).status_code == 403
    assert api_key_client(UserFactory(role="editor"), ["admin"]).get(URL).status_code == 403


def test_create_answers_201_and_stores_the_password_hashed(admin_client):
    response = admin_client.post(
        URL, {"username": "newbie", "email": "n@example.test", "role": "editor", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == FIELDS
    assert body["role"] == "editor" and body["is_active"] is True
    user = User.objects.get(username="newbie")
    assert user.check_password(PASSWORD)
    assert PASSWORD not in json.dumps(body)


def test_create_without_role_makes_a_viewer(admin_client):
    response = admin_client.post(URL, {"username": "plain", "password": PASSWORD}, format="json")

    assert response.status_code == 201
    assert response.json()["role"] == "viewer"


@pytest.mark.parametrize("password", ["short", "12345678901", "password123", "newbie-user"])
def test_create_refuses_a_weak_password_with_422(admin_client, password):
    response = admin_client.post(URL, {"username": "newbie-user", "password": password}, format="json")

    assert response.status_code == 422
    assert ["body", "password"] in _locs(response)
    assert not User.objects.filter(username="newbie-user").exists()


def test_create_needs_a_password_and_a_free_username(admin_client, viewer_user):
    missing = admin_client.post(URL, {"username": "nopass"}, format="json")
    taken = admin_client.post(URL, {"username": viewer_user.username, "password": PASSWORD}, format="json")
    bad_role = admin_client.post(URL, {"username": "x", "password": PASSWORD, "role": "god"}, format="json")

    assert missing.status_code == 422 and ["body", "password"] in _locs(missing)
    assert taken.status_code == 422 and ["body", "username"] in _locs(taken)
    assert bad_role.status_code == 422 and ["body", "role"] in _locs(bad_role)


def test_patch_changes_role_and_a_password_given_there_is_validated(admin_client):
    user = UserFactory(role="viewer")

    changed = admin_client.patch(f"{URL}{user.pk}/", {"role": "editor", "email": "new@example.test"}, format="json")
    weak = admin_client.patch(f"{URL}{user.pk}/", {"password": "123"}, format="json")

    assert changed.status_code == 200
    assert changed.json()["role"] == "editor"
    user.refresh_from_db()
    assert (user.role, user.email) == ("editor", "new@example.test")
    assert weak.status_code == 422
    assert user.check_password("correct-horse-battery")


def test_put_replaces_the_user(admin_client):
    user = UserFactory(role="editor")

    response = admin_client.put(
        f"{URL}{user.pk}/", {"username": "renamed", "email": "", "role": "viewer", "is_active": False}, format="json"
    )

    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert (user.username, user.role, user.is_active) == ("renamed", "viewer", False)


def test_the_list_filters_searches_orders_and_pages(admin_client, admin_user):
    UserFactory(username="alice", email="alice@home.test", role="editor")
    UserFactory(username="bob", role="viewer", is_active=False)
    UserFactory(username="carol", role="editor")

    def names(**params):
        return [row["username"] for row in admin_client.get(URL, params).json()["results"]]

    assert names(role="editor", ordering="username") == ["alice", "carol"]
    assert names(is_active="false") == ["bob"]
    assert names(search="home.test") == ["alice"]
    assert names(ordering="-username") == ["carol", "boss", "bob", "alice"]
    page = admin_client.get(URL, {"limit": 2, "ordering": "username"}).json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    assert admin_client.get(URL, {"ordering": "password"}).status_code == 422
    assert admin_client.get(URL, {"role": "god"}).status_code == 422


def test_delete_removes_a_user(admin_client):
    user = UserFactory()

    assert admin_client.delete(f"{URL}{user.pk}/").status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()


@pytest.mark.parametrize(
    ("method", "body"),
    [("delete", None), ("patch", {"role": "editor"}), ("patch", {"is_active": False})],
    ids=["delete", "demote", "deactivate"],
)
def test_the_last_active_admin_cannot_be_removed(admin_client, admin_user, method, body):
    UserFactory(username="former", role="admin", is_active=False)  # inactive admins do not count

    response = getattr(admin_client, method)(f"{URL}{admin_user.pk}/", body, format="json")

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    admin_user.refresh_from_db()
    assert (admin_user.role, admin_user.is_active) == ("admin", True)


def test_an_admin_may_go_when_another_active_admin_remains(admin_client, admin_user):
    other = UserFactory(role="admin")

    assert admin_client.patch(f"{URL}{other.pk}/", {"role": "viewer"}, format="json").status_code == 200
    assert admin_client.delete(f"{URL}{other.pk}/").status_code == 204
    assert admin_client.patch(f"{URL}{admin_user.pk}/", {"role": "editor"}, format="json").status_code == 409


def test_a_superuser_counts_as_an_active_admin(admin_client, admin_user):
    UserFactory(username="root", role="viewer", is_superuser=True)

    assert admin_client.patch(f"{URL}{admin_user.pk}/", {"role": "editor"}, format="json").status_code == 200


def test_an_admin_resets_another_users_password_without_the_current_one(admin_client):
    user = UserFactory()

    response = admin_client.post(f"{URL}{user.pk}/password/", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_changing_ones_own_password_needs_the_current_one(admin_client, admin_user):
    url = f"{URL}{admin_user.pk}/password/"

    missing = admin_client.post(url, {"password": PASSWORD}, format="json")
    wrong = admin_client.post(url, {"password": PASSWORD, "current_password": "nope"}, format="json")
    weak = admin_client.post(url, {"password": "123", "current_password": "correct-horse-battery"}, format="json")
    right = admin_client.post(url, {"password": PASSWORD, "current_password": "correct-horse-battery"}, format="json")

    assert missing.status_code == 422 and ["body", "current_password"] in _locs(missing)
    assert wrong.status_code == 422 and ["body", "current_password"] in _locs(wrong)
    assert weak.status_code == 422 and ["body", "password"] in _locs(weak)
    assert right.status_code == 204
    admin_user.refresh_from_db()
    assert admin_user.check_password(PASSWORD)


def test_a_password_change_keeps_the_admins_session(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        f"{URL}{admin_user.pk}/password/",
        {"password": PASSWORD, "current_password": "correct-horse-battery"},
        content_type="application/json",
    )

    assert response.status_code == 204
    assert client.get(URL).status_code == 200


def test_an_unknown_or_malformed_user_id(admin_client):
    assert admin_client.get(f"{URL}999999/").status_code == 404
    assert admin_client.get(f"{URL}abc/").status_code == 422


def test_no_password_reaches_the_audit_log(admin_client, admin_user):
    created = admin_client.post(URL, {"username": "newbie", "password": PASSWORD}, format="json")
    user_id = created.json()["id"]
    admin_client.patch(f"{URL}{user_id}/", {"password": PASSWORD + "x"}, format="json")
    admin_client.post(f"{URL}{user_id}/password/", {"password": PASSWORD + "y"}, format="json")
    hashed = User.objects.get(pk=user_id).password

    rows = list(AuditLog.objects.order_by("id").values())
    assert [row["action"] for row in rows] == [
        "admin/users.create",
        "admin/users.partial_update",
        "admin/users.password",
    ]
    assert rows[0]["changes"] == {"username": "newbie", "password": "***"}
    assert all(row["object_id"] == str(user_id) and row["user_id"] == admin_user.pk for row in rows)
    dumped = json.dumps(rows, default=str)
    assert PASSWORD not in dumped
    assert hashed not in dumped


def test_an_admin_deleting_themself_is_audited_without_a_dangling_user(admin_client, admin_user):
    UserFactory(role="admin")

    assert admin_client.delete(f"{URL}{admin_user.pk}/").status_code == 204

    entry = AuditLog.objects.get()
    assert (entry.action, entry.object_id, entry.user) == ("admin/users.destroy", str(admin_user.pk), None)
