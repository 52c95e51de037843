"""What ``restore`` refuses, and that a refusal changes nothing."""

import hashlib
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command

from library.models import Book
from mamcrawler.backup.services import backup_write
from tests.backup.conftest import empty_backed_up_tables, snapshot


@pytest.fixture
def archive(instance, tmp_path):
    path = tmp_path / "instance.zip"
    backup_write(path)
    return path


def rewrite(source, target, change):
    """Copy the archive at ``source`` to ``target``, passing each member through ``change(name, data)``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, change(info.filename, old.read(info.filename)))
    return target


def test_it_refuses_a_database_that_is_not_empty(archive):
    before = snapshot()
    with pytest.raises(CommandError, match=r"not empty: .*library\.book \(2\).*--force"):
        call_command("restore", str(archive))
    assert snapshot() == before


def test_it_refuses_one_leftover_row(archive):
    empty_backed_up_tables()
    Book.objects.create(title="Left over")
    with pytest.raises(CommandError, match=r"library\.book \(1\)"):
        call_command("restore", str(archive))
    assert list(Book.objects.values_list("title", flat=True)) == ["Left over"]


def test_it_refuses_an_archive_from_a_newer_schema(archive, tmp_path):
    def future(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["migrations"]["library"] = "9999_from_the_future"
        return json.dumps(manifest)

    newer = rewrite(archive, tmp_path / "newer.zip", future)
    empty_backed_up_tables()
    with pytest.raises(CommandError, match=r"newer schema.*library\.9999_from_the_future"):
        call_command("restore", str(newer))
    assert not any(snapshot().values())


def test_it_refuses_a_tampered_data_file(archive, tmp_path):
    def tamper(name, data):
        return data.replace(b"Earthsea 1", b"Earthsea X") if name == "data/library.book.jsonl" else data

    tampered = rewrite(archive, tmp_path / "tampered.zip", tamper)
    empty_backed_up_tables()
    with pytest.raises(CommandError, match=r"data/library\.book\.jsonl does not match its SHA-256"):
        call_command("restore", str(tampered))
    assert not any(snapshot().values())


def test_it_refuses_a_file_that_is_not_a_backup(tmp_path, db):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="not a readable backup archive"):
        call_command("restore", str(junk))
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(CommandError, match="no manifest.json"):
        call_command("restore", str(empty))


def test_a_row_count_that_differs_from_the_manifest_rolls_everything_back(archive, tmp_path):
    def drop_a_book(name, data):
        if name == "data/library.book.jsonl":
            return data.splitlines(keepends=True)[0]
        if name == "manifest.json":
            manifest = json.loads(data)
            for entry in manifest["models"]:
                if entry["model"] == "library.book":
                    first_line = zipfile.ZipFile(archive).read(entry["file"]).splitlines(keepends=True)[0]
                    entry["sha256"] = hashlib.sha256(first_line).hexdigest()
            return json.dumps(manifest)
        return data

    short = rewrite(archive, tmp_path / "short.zip", drop_a_book)
    empty_backed_up_tables()
    with pytest.raises(CommandError, match=r"holds 1 rows; the manifest says 2"):
        call_command("restore", str(short))
    assert not any(snapshot().values())
