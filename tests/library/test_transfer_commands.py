"""``manage.py export_library`` and ``manage.py import_library`` (SPEC §9)."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from library.models import Author, Book
from tests.library.transfer_library import build_library, library_dump, wipe_library

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_export_writes_json_to_stdout_by_default():
    build_library()

    out, _ = _run("export_library")

    document = json.loads(out)
    assert document["format"] == "mamcrawler-library"
    assert len(document["books"]) == 6


def test_export_writes_csv_to_stdout():
    build_library()

    out, _ = _run("export_library", "--format", "csv")

    assert len(list(csv.DictReader(io.StringIO(out, newline="")))) == 6


def test_export_writes_a_file_and_import_reproduces_the_library_from_it(tmp_path):
    build_library()
    before = library_dump()
    path = tmp_path / "library.json"

    out, _ = _run("export_library", "--output", str(path))
    wipe_library()
    imported, errors = _run("import_library", str(path))

    assert out.strip() == f"Exported 6 books to {path} (json)."
    assert imported.strip() == (
        "books: 6 created, 0 updated, 0 unchanged; authors: 2 created, 0 updated; "
        "series: 2 created, 0 updated; 0 skipped with errors."
    )
    assert errors == ""
    assert library_dump() == before


def test_import_of_a_csv_file_is_recognised_by_its_extension(tmp_path):
    build_library()
    path = tmp_path / "library.csv"
    _run("export_library", "--format", "csv", "-o", str(path))

    out, _ = _run("import_library", str(path))

    assert "0 created, 0 updated, 6 unchanged" in out


def test_dry_run_prints_the_report_and_writes_nothing(tmp_path):
    path = tmp_path / "books.csv"
    path.write_text("title,authors\nMistborn,Brandon Sanderson\n", encoding="utf-8")

    out, _ = _run("import_library", str(path), "--dry-run")

    assert out.startswith("Dry run (nothing saved): would have books: 1 created")
    assert not Book.objects.exists()
    assert not Author.objects.exists()


def test_skipped_records_are_listed_on_stderr(tmp_path):
    path = tmp_path / "books.csv"
    path.write_text("title,published_year\nGood,2001\nBad,soon\n", encoding="utf-8")

    out, err = _run("import_library", str(path))

    assert "1 created" in out and "1 skipped with errors" in out
    assert err.strip() == "row 2 published_year: A valid integer is required."


def test_a_bad_file_is_a_command_error(tmp_path):
    path = tmp_path / "library.json"
    path.write_text('{"books": [', encoding="utf-8")

    with pytest.raises(CommandError, match="is not a library file:\n  Not valid JSON"):
        _run("import_library", str(path))


def test_a_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        _run("import_library", str(tmp_path / "nope.json"))


def test_an_unwritable_output_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        _run("export_library", "--output", str(tmp_path / "missing" / "library.json"))
