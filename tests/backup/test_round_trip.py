"""A backup restored into an empty database gives back every row of every table it holds."""

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from library.models import Author, Book
from mamcrawler.accounts.models import User
from mamcrawler.backup.catalog import included_models
from mamcrawler.backup.services import backup_write
from scheduler.models import JobRun
from tests.backup.conftest import empty_backed_up_tables, snapshot

# Tables the fixture fills; an empty one would make a row-for-row comparison prove nothing.
FILLED = {
    "accounts.user",
    "accounts.user_groups",
    "accounts.user_user_permissions",
    "accounts.apikey",
    "auth.group",
    "auth.group_permissions",
    "audit.auditlog",
    "library.author",
    "library.narrator",
    "library.series",
    "library.series_authors",
    "library.book",
    "library.bookauthor",
    "library.book_narrators",
    "library.seriesentry",
    "library.bookfile",
    "library.missingbook",
    "library.missingbook_authors",
    "library.metadatacorrection",
    "library.providercache",
    "downloads.download",
    "downloads.mamaccountsnapshot",
    "scheduler.jobrun",
    "scheduler.jobsetting",
    "django_q.schedule",
}


@pytest.fixture
def archive(instance, tmp_path):
    path = tmp_path / "instance.zip"
    backup_write(path, with_cache=True)
    return path


def test_the_fixture_fills_the_tables_that_matter(instance):
    filled = {label for label, rows in snapshot().items() if rows}
    assert filled >= FILLED, FILLED - filled


def test_it_restores_every_table_row_for_row_into_an_empty_database(instance, archive, capsys):
    before = snapshot()
    empty_backed_up_tables()
    assert not any(snapshot().values())

    call_command("restore", str(archive))

    assert snapshot() == before
    out = capsys.readouterr().out
    assert "library.book: 2 rows" in out
    assert f"Restored {sum(len(rows) for rows in before.values())} rows" in out


def test_force_replaces_the_rows_instead_of_merging(instance, archive):
    before = snapshot()
    Book.objects.create(title="Bought after the backup")
    Author.objects.filter(name="Ursula Le Guin").update(name="Changed")
    JobRun.objects.create(job="cleanup", trigger="api")

    call_command("restore", str(archive), "--force")

    assert snapshot() == before


def test_the_restored_instance_answers_the_api_as_before(instance, archive):
    def answers():
        client = APIClient()
        client.force_authenticate(User.objects.get(username="root"))
        return [client.get(url).json() for url in ("/api/v1/books/", "/api/v1/gaps/", "/api/v1/books/?ordering=-title")]

    before = answers()
    assert before[0]["count"] == 2 and before[1]["count"] == 1
    empty_backed_up_tables()
    assert not Book.objects.exists() and not User.objects.exists()

    call_command("restore", str(archive))

    assert answers() == before


def test_restored_rows_keep_their_ids_and_new_rows_get_fresh_ones(instance, archive):
    highest = {
        model: model._base_manager.order_by("-pk").values_list("pk", flat=True).first()
        for model in (Book, User, JobRun)
    }
    empty_backed_up_tables(reset_sequences=True)  # a new database: sequences start at 1

    call_command("restore", str(archive))

    assert Book.objects.create(title="New").pk > highest[Book]
    assert User.objects.create(username="newcomer").pk > highest[User]
    assert JobRun.objects.create(job="cleanup", trigger="api").pk > highest[JobRun]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL round trip")
def test_on_postgresql_a_round_trip_keeps_every_row_and_moves_every_sequence(instance, archive):
    before = snapshot()
    empty_backed_up_tables(reset_sequences=True)

    call_command("restore", str(archive))

    assert snapshot() == before
    with connection.cursor() as cursor:
        for model in included_models(with_cache=True):
            pk = model._meta.pk
            if pk.get_internal_type() not in ("AutoField", "BigAutoField") or not before[model._meta.label_lower]:
                continue
            cursor.execute(
                "SELECT last_value FROM pg_sequences WHERE sequencename = %s",
                [f"{model._meta.db_table}_{pk.column}_seq"],
            )
            last = cursor.fetchone()
            assert last is not None and last[0] == max(row[pk.attname] for row in before[model._meta.label_lower]), (
                model
            )


@pytest.mark.django_db(transaction=True)
def test_a_backup_taken_by_the_command_restores_with_real_commits(instance, tmp_path):
    """Outside a test transaction: the backup reads one snapshot, the restore commits (and checks keys)."""
    before = snapshot()
    path = tmp_path / "live.zip"

    call_command("backup", "--output", str(path), "--with-cache")
    own_run = JobRun.objects.get(job="backup").pk
    call_command("restore", str(path), "--force")

    after = snapshot()
    # The archive holds the backup's own run, as it was while the backup ran.
    restored_run = next(row for row in after["scheduler.jobrun"] if row["id"] == own_run)
    assert restored_run["status"] == "running"
    after["scheduler.jobrun"].remove(restored_run)
    assert after == before
