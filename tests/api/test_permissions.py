"""The role matrix (SPEC §6.2) on real endpoints: roles, API key scopes capping them, hard delete."""

import pytest
from rest_framework.test import APIClient

from library.models import Book
from mamcrawler.accounts.models import ApiKey
from mamcrawler.accounts.services import api_key_create
from tests.factories import AuthorFactory, BookFactory, UserFactory

pytestmark = pytest.mark.django_db

BOOK = {"title": "The Permission Test", "authors": ["Ann Leckie"]}
AUTHOR = {"name": "Martha Wells"}


def jwt_client(user):
    client = APIClient()
    access = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": "correct-horse-battery"}, format="json"
    ).json()["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.mark.parametrize("url", ["/api/v1/books/", "/api/v1/authors/"])
def test_no_credentials_is_401_unauthorized(api_client, url):
    for response in (api_client.get(url), api_client.post(url, {}, format="json")):
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize("url", ["/api/v1/books/", "/api/v1/authors/"])
def test_a_viewer_reads(viewer_client, url):
    assert viewer_client.get(url).status_code == 200


@pytest.mark.parametrize(("url", "body"), [("/api/v1/books/", BOOK), ("/api/v1/authors/", AUTHOR)])
def test_a_viewer_may_not_write(viewer_client, url, body):
    response = viewer_client.post(url, body, format="json")

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


@pytest.mark.parametrize(("url", "body"), [("/api/v1/books/", BOOK), ("/api/v1/authors/", AUTHOR)])
def test_an_editor_creates(editor_client, url, body):
    assert editor_client.post(url, body, format="json").status_code == 201


def test_roles_apply_over_jwt_too():
    viewer = jwt_client(UserFactory(username="v", role="viewer"))
    editor = jwt_client(UserFactory(username="e", role="editor"))

    assert viewer.get("/api/v1/books/").status_code == 200
    assert viewer.post("/api/v1/books/", BOOK, format="json").status_code == 403
    assert editor.post("/api/v1/books/", BOOK, format="json").status_code == 201


def test_a_read_key_of_an_admin_reads_but_never_writes(admin_user, api_key_client):
    client = api_key_client(admin_user, scopes=["read"])

    assert client.get("/api/v1/books/").status_code == 200
    response = client.post("/api/v1/books/", BOOK, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


@pytest.mark.parametrize(("url", "body"), [("/api/v1/books/", BOOK), ("/api/v1/authors/", AUTHOR)])
def test_a_write_key_writes(admin_user, api_key_client, url, body):
    assert api_key_client(admin_user, scopes=["read", "write"]).post(url, body, format="json").status_code == 201


def test_a_key_never_raises_its_owners_role(viewer_user, api_key_client):
    client = api_key_client(viewer_user, scopes=["read", "write", "admin"])

    assert client.get("/api/v1/books/").status_code == 200
    assert client.post("/api/v1/books/", BOOK, format="json").status_code == 403


def test_a_superuser_acts_as_admin_whatever_its_role(api_client):
    boss = UserFactory(username="su", role="viewer", is_superuser=True)
    book = BookFactory()
    api_client.force_authenticate(boss)

    assert api_client.delete(f"/api/v1/books/{book.id}/?hard=true").status_code == 204


def test_an_editor_may_not_hard_delete(editor_client):
    book = BookFactory(authors=[AuthorFactory()])

    response = editor_client.delete(f"/api/v1/books/{book.id}/?hard=true")

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert Book.objects.filter(pk=book.pk).exists()


def test_an_editor_delete_archives(editor_client):
    book = BookFactory()

    assert editor_client.delete(f"/api/v1/books/{book.id}/").status_code == 204
    book.refresh_from_db()
    assert book.status == "archived"


def test_an_admin_hard_deletes(admin_client):
    book = BookFactory(authors=[AuthorFactory()])

    assert admin_client.delete(f"/api/v1/books/{book.id}/?hard=true").status_code == 204
    assert not Book.objects.filter(pk=book.pk).exists()


def test_a_write_key_of_an_admin_may_not_hard_delete(admin_user, api_key_client):
    book = BookFactory()

    response = api_key_client(admin_user, scopes=["write"]).delete(f"/api/v1/books/{book.id}/?hard=true")

    assert response.status_code == 403
    assert Book.objects.filter(pk=book.pk).exists()


def test_an_admin_key_of_an_admin_hard_deletes(admin_user, api_key_client):
    book = BookFactory()

    response = api_key_client(admin_user, scopes=["admin"]).delete(f"/api/v1/books/{book.id}/?hard=true")

    assert response.status_code == 204
    assert not Book.objects.filter(pk=book.pk).exists()


def test_a_key_without_known_scopes_may_do_nothing(admin_user):
    key, secret = api_key_create(user=admin_user, name="odd", scopes=["read"])
    ApiKey.objects.filter(pk=key.pk).update(scopes=["legacy"])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=secret)

    response = client.get("/api/v1/books/")

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
