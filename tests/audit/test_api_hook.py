"""Every successful API write leaves one AuditLog, with secrets as ``***`` (SPEC §3, §5.2)."""

import json

import pytest
from rest_framework.test import APIClient

from mamcrawler.accounts.models import ApiKey
from mamcrawler.audit.models import AuditLog
from mamcrawler.audit.services import REDACTED, redact
from tests.factories import AuthorFactory, BookFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_book_patch_writes_one_entry_with_who_what_and_where(editor_client, editor_user):
    book = BookFactory(title="Old Title", authors=[AuthorFactory()])

    response = editor_client.patch(
        f"/api/v1/books/{book.pk}/",
        {"title": "New Title", "publisher": "Tor"},
        format="json",
        HTTP_X_REQUEST_ID="req-audit-1",
        HTTP_USER_AGENT="pytest-agent/1.0",
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 200
    entry = AuditLog.objects.get()
    assert entry.user == editor_user and entry.api_key is None
    assert entry.action == "books.partial_update"
    assert (entry.object_type, entry.object_id) == ("library.book", str(book.pk))
    assert entry.changes == {"title": "New Title", "publisher": "Tor"}
    assert (entry.ip, entry.user_agent, entry.request_id) == ("203.0.113.9", "pytest-agent/1.0", "req-audit-1")
    assert entry.created_at is not None


def test_a_create_takes_the_id_from_the_answer_and_the_request_id_is_made_when_absent(editor_client):
    response = editor_client.post("/api/v1/authors/", {"name": "Ann Leckie"}, format="json")

    assert response.status_code == 201
    entry = AuditLog.objects.get()
    assert (entry.action, entry.object_type, entry.object_id) == (
        "authors.create",
        "library.author",
        str(response.json()["id"]),
    )
    assert entry.request_id == response["X-Request-ID"]


def test_a_list_level_action_is_named_after_its_resource(editor_client):
    book = BookFactory()

    response = editor_client.post("/api/v1/books/bulk/", {"ids": [book.pk], "action": "archive"}, format="json")

    assert response.status_code == 200, response.json()
    assert AuditLog.objects.get().action == "books.bulk"


def test_a_write_with_an_api_key_records_the_key(api_key_client):
    owner = UserFactory(role="editor")
    client = api_key_client(owner, ["read", "write"])
    book = BookFactory()

    client.patch(f"/api/v1/books/{book.pk}/", {"title": "Via Key"}, format="json")

    entry = AuditLog.objects.get()
    assert entry.user == owner and entry.api_key == ApiKey.objects.get()


def test_reads_and_failed_writes_are_not_recorded(editor_client, viewer_client):
    book = BookFactory()

    editor_client.get(f"/api/v1/books/{book.pk}/")
    editor_client.patch(f"/api/v1/books/{book.pk}/", {"published_year": "soon"}, format="json")
    viewer_client.patch(f"/api/v1/books/{book.pk}/", {"title": "Nope"}, format="json")
    editor_client.patch("/api/v1/books/999999/", {"title": "Nope"}, format="json")

    assert not AuditLog.objects.exists()


def test_the_user_agent_is_cut_to_255_characters(editor_client):
    book = BookFactory()

    editor_client.patch(f"/api/v1/books/{book.pk}/", {"title": "T"}, format="json", HTTP_USER_AGENT="x" * 1000)

    assert AuditLog.objects.get().user_agent == "x" * 255


def test_logins_and_token_endpoints_never_store_tokens_or_passwords(settings):
    user = UserFactory(username="reader")
    client = APIClient()

    pair = client.post(
        "/api/v1/auth/token/", {"username": "reader", "password": "correct-horse-battery"}, format="json"
    ).json()
    rotated = client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {rotated['access']}")
    client.post("/api/v1/auth/token/verify/", {"token": rotated["access"]}, format="json")
    assert client.post("/api/v1/auth/logout/", {"refresh": rotated["refresh"]}, format="json").status_code == 204

    rows = list(AuditLog.objects.order_by("id").values())
    assert [row["action"] for row in rows] == ["auth.token", "auth/token.refresh", "auth/token.verify", "auth.logout"]
    assert rows[0]["changes"] == {"username": "reader", "password": REDACTED}
    assert rows[-1]["user_id"] == user.pk and rows[-1]["changes"] == {"refresh": REDACTED}
    dumped = json.dumps(rows, default=str)
    for secret in ("correct-horse-battery", pair["access"], pair["refresh"], rotated["access"], rotated["refresh"]):
        assert secret not in dumped


def test_redact_hides_secret_like_fields_at_any_depth():
    data = {
        "title": "Dune",
        "password": "p",
        "current_password": "p",
        "new_password1": "p",
        "key": "k",
        "api_key": "k",
        "secret": "s",
        "client_secret": "s",
        "token": "t",
        "refresh": "r",
        "access": "a",
        "cookie": "c",
        "mam_session_cookie": "c",
        "session": "s",
        "nested": {"items": [{"token": "t", "name": "n"}]},
        "long": "y" * 2000,
    }

    cleaned = redact(data)

    assert cleaned["title"] == "Dune"
    assert all(cleaned[name] == REDACTED for name in data if name not in ("title", "nested", "long"))
    assert cleaned["nested"] == {"items": [{"token": REDACTED, "name": "n"}]}
    assert len(cleaned["long"]) < 600
