"""Admin smoke tests for every registered model, plus the admin's own behaviour (keys, actions)."""

import re
from uuid import uuid4

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task
from django_q.signing import SignedPackage
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from downloads.models import Download, MamAccountSnapshot, MamSession
from library.models import (
    Author,
    Book,
    BookFile,
    MetadataCorrection,
    MissingBook,
    ProviderCache,
    ProviderState,
    Series,
)
from mamcrawler.accounts.models import ApiKey
from mamcrawler.accounts.services import api_key_create
from mamcrawler.audit.services import audit_record
from notifications.models import Delivery, Target
from scheduler.models import JobLock, JobRun, JobSetting, WorkerHeartbeat
from tests.factories import AuthorFactory, BookFactory, NarratorFactory, SeriesEntryFactory, SeriesFactory, UserFactory

pytestmark = pytest.mark.django_db


def _outstanding_token():
    return OutstandingToken.objects.get(jti=RefreshToken.for_user(UserFactory())["jti"])


def _task(success):
    now = timezone.now()
    return Task.objects.create(
        id=uuid4().hex, name=f"task-{uuid4().hex[:6]}", func="math.floor", started=now, stopped=now, success=success
    )


# One object per registered model; a model registered without a maker is reported as skipped.
MAKERS = {
    "auth.Group": lambda: Group.objects.create(name="household"),
    "token_blacklist.OutstandingToken": _outstanding_token,
    "token_blacklist.BlacklistedToken": lambda: RefreshToken.for_user(UserFactory()).blacklist()[0],
    "django_q.Schedule": lambda: Schedule.objects.create(name="nightly", func="math.floor", args="1.5"),
    "django_q.Success": lambda: _task(True),
    "django_q.Failure": lambda: _task(False),
    "django_q.OrmQ": lambda: OrmQ.objects.create(
        key="mamcrawler", payload=SignedPackage.dumps({"id": uuid4().hex, "name": "queued", "func": "math.floor"})
    ),
    "notifications.Target": lambda: Target.objects.create(
        name="home", kind="webhook", url="http://example.com/hook", secret="admin-never-shows-this"
    ),
    "notifications.Delivery": lambda: Delivery.objects.create(
        target=Target.objects.create(name="chat", kind="apprise", url="json://example.com/x"), event="test"
    ),
    "accounts.User": lambda: UserFactory(username="someone", role="editor"),
    "accounts.ApiKey": lambda: api_key_create(user=UserFactory(), name="cron", scopes=["read"])[0],
    "audit.AuditLog": lambda: audit_record(
        action="books.partial_update", user=UserFactory(), object_type="library.book", object_id=1, changes={"x": 1}
    ),
    "library.Author": AuthorFactory,
    "library.Narrator": NarratorFactory,
    "library.Series": lambda: SeriesFactory(primary_author=AuthorFactory()),
    "library.Book": lambda: BookFactory(authors=[AuthorFactory()], narrators=[NarratorFactory()]),
    "library.SeriesEntry": lambda: SeriesEntryFactory(position=1, position_label="1"),
    "library.BookFile": lambda: BookFile.objects.create(book=BookFactory(), path="/audio/x/01.m4b", size_bytes=10),
    "library.MetadataCorrection": lambda: MetadataCorrection.objects.create(
        book=BookFactory(), field="publisher", old_value="", new_value="Tor", source="openlibrary"
    ),
    "library.ProviderCache": lambda: ProviderCache.objects.create(
        provider="openlibrary", key="isbn:1", payload={}, fetched_at=timezone.now(), expires_at=timezone.now()
    ),
    "library.ProviderState": lambda: ProviderState.objects.create(provider="openlibrary", requests=3, failures=1),
    "library.MissingBook": lambda: MissingBook.objects.create(
        title="Book Three",
        title_key="book three",
        reason="series_gap",
        series=SeriesFactory(),
        position=3,
        position_label="3",
        last_seen=timezone.now(),
    ),
    "downloads.Download": lambda: Download.objects.create(
        title="Book Three", info_hash="a" * 40, mam_torrent_id=7, torrent_file=b"d4:infod4:name1:xee"
    ),
    "downloads.MamAccountSnapshot": lambda: MamAccountSnapshot.objects.create(
        username="reader", uploaded_bytes=3 * 1024**3, downloaded_bytes=1024**3, unsat_count=4, unsat_limit=50
    ),
    "downloads.MamSession": lambda: MamSession.objects.create(pk=MamSession.SINGLETON_ID, mam_id="cookie"),
    "scheduler.JobRun": lambda: JobRun.objects.create(job="cleanup", trigger="api", task_id=_task(True).id),
    "scheduler.JobSetting": lambda: JobSetting.objects.create(name="cleanup", schedule="6h"),
    "scheduler.JobLock": lambda: JobLock.objects.create(
        name="cleanup", owner="host:1", acquired_at=timezone.now(), expires_at=timezone.now()
    ),
    "scheduler.WorkerHeartbeat": lambda: WorkerHeartbeat.objects.create(worker="host", seen_at=timezone.now()),
}
REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_staff=True, is_superuser=True, role="admin")


@pytest.fixture
def site(client, superuser):
    client.force_login(superuser)
    return client


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED])
def test_every_registered_model_opens_in_the_admin(site, superuser, model, model_admin):
    label = model._meta.label
    obj = MAKERS[label]() if label in MAKERS else model._default_manager.first()
    request = RequestFactory().get("/")
    request.user = superuser

    assert site.get(url(model, "changelist")).status_code == 200
    assert site.get(url(model, "changelist"), {"q": "x"}).status_code == 200
    add = site.get(url(model, "add"))
    assert add.status_code == (200 if model_admin.has_add_permission(request) else 403)
    if obj is None:
        pytest.skip(f"no object maker for {label}: add one to MAKERS in tests/test_admin.py")
    assert site.get(url(model, "change", obj.pk)).status_code == 200


def test_the_admin_requires_staff(client):
    client.force_login(UserFactory(username="plain"))

    response = client.get(url(Book, "changelist"))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_adding_an_api_key_shows_the_secret_exactly_once(site):
    owner = UserFactory(username="owner", role="editor")

    response = site.post(
        url(ApiKey, "add"),
        {
            "name": "from the admin",
            "user": owner.pk,
            "scopes": ["read", "write"],
            "expires_at_0": "",
            "expires_at_1": "",
        },
        follow=True,
    )

    assert response.status_code == 200
    key = ApiKey.objects.get()
    secrets = re.findall(rf"{re.escape(key.prefix)}[A-Za-z0-9_-]+", response.content.decode())
    assert len(set(secrets)) == 1
    secret = secrets[0]
    assert len(secret) > len(key.prefix)
    assert key.hashed_key == ApiKey.hash_secret(secret)
    assert key.scopes == ["read", "write"]
    assert key.user == owner
    later = (
        site.get(url(ApiKey, "change", key.pk)).content.decode() + site.get(url(ApiKey, "changelist")).content.decode()
    )
    assert secret not in later
    assert key.hashed_key not in later
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=secret)
    assert client.get("/api/v1/auth/me/").json()["auth"]["scopes"] == ["read", "write"]


def test_an_api_key_needs_a_scope(site):
    response = site.post(url(ApiKey, "add"), {"name": "none", "user": UserFactory().pk, "scopes": []})

    assert response.status_code == 200
    assert not ApiKey.objects.exists()


def test_the_revoke_action_revokes_the_selected_keys(site):
    user = UserFactory()
    chosen, secret = api_key_create(user=user, name="chosen", scopes=["read"])
    other, _ = api_key_create(user=user, name="other", scopes=["read"])

    response = site.post(url(ApiKey, "changelist"), {"action": "revoke_keys", "_selected_action": [chosen.pk]})

    assert response.status_code == 302
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert chosen.revoked_at is not None
    assert other.revoked_at is None
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=secret)
    assert client.get("/api/v1/auth/me/").status_code == 401


def test_a_user_is_created_with_a_role(site):
    response = site.post(
        url(UserFactory._meta.model, "add"),
        {
            "username": "newbie",
            "email": "newbie@example.test",
            "role": "editor",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase-42",
            "password2": "a-long-enough-passphrase-42",
        },
    )

    assert response.status_code == 302
    assert UserFactory._meta.model.objects.get(username="newbie").role == "editor"


def test_archive_and_restore_actions_use_the_book_service(site):
    author = AuthorFactory()
    book = BookFactory(authors=[author])
    Author.objects.filter(pk=author.pk).update(books_owned=1)

    site.post(url(Book, "changelist"), {"action": "archive", "_selected_action": [book.pk]})
    book.refresh_from_db()
    author.refresh_from_db()
    assert book.status == "archived"
    assert author.books_owned == 0

    site.post(url(Book, "changelist"), {"action": "restore", "_selected_action": [book.pk]})
    book.refresh_from_db()
    author.refresh_from_db()
    assert book.status == "active"
    assert author.books_owned == 1


def test_recalculate_and_monitor_actions_on_series_and_authors(site):
    series = SeriesFactory(total_known=2)
    SeriesEntryFactory(series=series, position=1, position_label="1")
    author = AuthorFactory()
    BookFactory(authors=[author])

    site.post(url(Series, "changelist"), {"action": "recalculate_completion", "_selected_action": [series.pk]})
    site.post(url(Author, "changelist"), {"action": "recalculate_completion", "_selected_action": [author.pk]})
    site.post(url(Series, "changelist"), {"action": "monitor", "_selected_action": [series.pk]})
    site.post(url(Author, "changelist"), {"action": "monitor", "_selected_action": [author.pk]})

    series.refresh_from_db()
    author.refresh_from_db()
    assert (series.books_owned, series.books_missing, series.completion_status) == (1, 1, "partial")
    assert author.books_owned == 1
    assert series.monitored and author.monitored

    site.post(url(Series, "changelist"), {"action": "unmonitor", "_selected_action": [series.pk]})
    site.post(url(Author, "changelist"), {"action": "unmonitor", "_selected_action": [author.pk]})
    series.refresh_from_db()
    author.refresh_from_db()
    assert not series.monitored and not author.monitored


def test_a_book_added_with_inlines_gets_its_completeness_and_counts(site):
    author = AuthorFactory()
    series = SeriesFactory(total_known=4)

    response = site.post(
        url(Book, "add"),
        {
            "title": "Admin Made",
            "status": "active",
            "locked_fields": "[]",
            "book_authors-TOTAL_FORMS": "1",
            "book_authors-INITIAL_FORMS": "0",
            "book_authors-0-author": author.pk,
            "book_authors-0-position": "0",
            "series_entries-TOTAL_FORMS": "1",
            "series_entries-INITIAL_FORMS": "0",
            "series_entries-0-series": series.pk,
            "series_entries-0-position": "2",
            "series_entries-0-position_label": "2",
            "files-TOTAL_FORMS": "0",
            "files-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context["errors"] if response.context else response
    book = Book.objects.get(title="Admin Made")
    series.refresh_from_db()
    author.refresh_from_db()
    assert book.metadata_completeness == 40  # title, author, series, position
    assert (series.books_owned, series.books_missing) == (1, 3)
    assert author.books_owned == 1


def test_a_duplicate_author_name_is_a_form_error(site):
    AuthorFactory(name="Ursula K. Le Guin")

    response = site.post(url(Author, "add"), {"name": "le guin, ursula k.", "books_known": ""})

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Author.objects.count() == 1


def test_an_author_with_books_cannot_be_deleted(site):
    author = AuthorFactory()
    BookFactory(authors=[author])

    response = site.post(url(Author, "delete", author.pk), {"post": "yes"})

    assert response.status_code == 200
    assert "merge into another author" in response.content.decode()
    assert Author.objects.filter(pk=author.pk).exists()


def test_hard_deleting_a_book_in_the_admin_refreshes_counts(site):
    author = AuthorFactory()
    book = BookFactory(authors=[author])
    Author.objects.filter(pk=author.pk).update(books_owned=1)

    response = site.post(url(Book, "delete", book.pk), {"post": "yes"})

    assert response.status_code == 302
    author.refresh_from_db()
    assert author.books_owned == 0
