"""An instance with rows in every table a backup holds, and a way to read them all back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management.color import no_style
from django.db import connection
from django.utils import timezone

from downloads.models import MamAccountSnapshot, MamSession
from library.models import BookFile, MetadataCorrection, MissingBook, ProviderCache
from mamcrawler.accounts.services import api_key_create
from mamcrawler.audit.services import audit_record
from mamcrawler.backup.catalog import included_models
from scheduler.models import JobRun
from scheduler.services import job_update, schedules_sync
from tests.downloads.factories import DownloadFactory
from tests.factories import (
    AuthorFactory,
    BookFactory,
    NarratorFactory,
    SeriesEntryFactory,
    SeriesFactory,
    UserFactory,
)

MAM_COOKIE = "mam-cookie-that-must-stay-out-of-backups"
TORRENT = b"d8:announce40:https://t.myanonamouse.net/passkey/announce4:infod4:name4:book\x00\xffee"


def snapshot(*, with_cache: bool = True) -> dict[str, list[dict]]:
    """Every row of every table a backup holds: model label → rows (all column values) by pk."""
    tables = {}
    for model in included_models(with_cache=with_cache):
        fields = [field.attname for field in model._meta.concrete_fields]
        rows = []
        for values in model._base_manager.order_by("pk").values_list(*fields):
            rows.append(
                {name: bytes(value) if isinstance(value, memoryview) else value for name, value in zip(fields, values)}
            )
        tables[model._meta.label_lower] = rows
    return tables


def empty_backed_up_tables(*, reset_sequences: bool = True) -> None:
    """Make the database look freshly migrated: no rows (and, on PostgreSQL, sequences at 1)."""
    tables = [model._meta.db_table for model in included_models(with_cache=True)]
    statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=reset_sequences, allow_cascade=True)
    connection.check_constraints()  # PostgreSQL: no TRUNCATE while deferred checks are pending
    connection.ops.execute_sql_flush(statements)


@pytest.fixture
def instance(db):
    """Users, an API key, a group, library, gaps, corrections, downloads, schedules, runs, audit entries."""
    admin = UserFactory(username="root", role="admin", first_name="Ada")
    editor = UserFactory(username="ed", role="editor")
    group = Group.objects.create(name="librarians")
    group.permissions.add(Permission.objects.get(codename="view_book"))
    editor.groups.add(group)
    editor.user_permissions.add(Permission.objects.get(codename="change_book"))
    key, secret = api_key_create(user=admin, name="scripts", scopes=["read", "write"])

    author, other = AuthorFactory(name="Ursula Le Guin", monitored=True), AuthorFactory()
    narrator = NarratorFactory()
    series = SeriesFactory(name="Earthsea", primary_author=author, total_known=3)
    series.authors.add(author, other)
    books = [
        BookFactory(
            title=f"Earthsea {n}",
            authors=[author, other] if n == 1 else [author],
            narrators=[narrator],
            isbn=f"97800{n}",
        )
        for n in (1, 2)
    ]
    SeriesEntryFactory(book=books[0], series=series, position=Decimal("1"), position_label="1")
    SeriesEntryFactory(book=books[1], series=series, position=Decimal("2.5"), position_label="2.5")
    BookFile.objects.create(book=books[0], path="/library/Earthsea 1/part1.m4b", size_bytes=123456789, mtime=1.5)
    gap = MissingBook.objects.create(
        title="Earthsea 3",
        title_key="earthsea 3",
        reason="series_gap",
        series=series,
        position=Decimal("3"),
        primary_author=author,
        author_names=["Ursula Le Guin"],
        identifiers={"isbn": "9780003"},
        last_seen=timezone.now(),
        best_candidate={"id": 42, "cost": {"free": False}},
    )
    gap.authors.add(author)

    run = JobRun.objects.create(job="metadata_refresh", trigger="schedule", status="succeeded", summary={"x": 1})
    first = MetadataCorrection.objects.create(
        book=books[0], field="publisher", old_value="", new_value="Parnassus", source="openlibrary", job_run=run
    )
    MetadataCorrection.objects.create(
        book=books[0],
        field="publisher",
        old_value="Parnassus",
        new_value="",
        source="manual",
        created_by=editor,
        reverts=first,
        reverted_at=timezone.now(),
        reverted_by=admin,
    )
    ProviderCache.objects.create(
        provider="openlibrary",
        key="isbn:97801",
        payload={"title": "Earthsea 1"},
        status=200,
        fetched_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=30),
    )

    DownloadFactory(title="Earthsea 3", book=None, missing_book=gap, torrent_file=TORRENT, is_free=True)
    DownloadFactory(title="Earthsea 1", book=books[0], status="completed", size_bytes=2**40)
    MamAccountSnapshot.objects.create(ratio=Decimal("2.345"), uploaded_bytes=2**41, raw={"classname": "Power User"})
    MamSession.objects.create(mam_id=MAM_COOKIE)

    schedules_sync()
    job_update(name="gap_analysis", schedule="0 5 * * *", user=admin)
    audit_record(action="books.update", user=admin, api_key=key, object_type="library.book", object_id=books[0].pk)
    return {"admin": admin, "editor": editor, "api_key": key, "secret": secret, "books": books, "gap": gap}
