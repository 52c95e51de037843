"""Library export and import (SPEC §9): round trips, matching, reports, bad files."""

import csv
import io
import json

import pytest
from django.db import IntegrityError

from library.models import Author, Book, Series
from library.services import transfer
from library.services.books import book_create, series_ref
from library.services.transfer import library_export, library_import
from library.transfer_format import BOOK_KEYS, LibraryFileError, detect_format, read_library_file
from tests.library.transfer_library import build_library, library_dump, wipe_library

pytestmark = pytest.mark.django_db


def _import(text: str, fmt: str, **kwargs):
    return library_import(data=text.encode(), fmt=fmt, **kwargs)


def _csv(*rows: dict) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _json(*books: dict, **sections) -> str:
    return json.dumps({"format": "mamcrawler-library", "version": 1, "books": list(books), **sections})


# --- round trips -------------------------------------------------------------------------------


def test_a_json_export_imported_into_an_empty_library_reproduces_it():
    build_library()
    before = library_dump()
    exported = library_export(fmt="json")
    wipe_library()

    report = _import(exported, "json")

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (6, 0, 0)
    assert (report.authors.created, report.series.created) == (2, 2)
    assert library_dump() == before


def test_a_csv_export_imported_into_an_empty_library_reproduces_the_books():
    build_library()
    before = library_dump(sections=False)
    exported = library_export(fmt="csv")
    wipe_library()

    report = _import(exported, "csv")

    assert report.errors == []
    assert report.created == 6
    assert library_dump(sections=False) == before


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_importing_an_export_into_the_same_library_changes_nothing(fmt):
    build_library()
    before = library_dump()
    stamps = dict(Book.objects.values_list("id", "updated_at"))

    report = _import(library_export(fmt=fmt), fmt)

    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 0, 6, [])
    assert report.authors.created == report.authors.updated == report.series.created == report.series.updated == 0
    assert library_dump() == before
    assert dict(Book.objects.values_list("id", "updated_at")) == stamps


def test_exporting_what_was_imported_gives_the_same_file():
    build_library()
    first = json.loads(library_export(fmt="json"))
    wipe_library()
    _import(json.dumps(first), "json")

    second = json.loads(library_export(fmt="json"))

    assert {**second, "exported_at": None} == {**first, "exported_at": None}


def test_the_json_file_has_the_documented_shape():
    build_library()

    document = json.loads(library_export(fmt="json"))

    assert (document["format"], document["version"]) == ("mamcrawler-library", 1)
    assert document["exported_at"].endswith("Z")
    way = next(book for book in document["books"] if book.get("abs_id") == "li_way")
    assert tuple(way) == BOOK_KEYS
    assert way["authors"] == ["Brandon Sanderson"]
    assert way["narrators"] == ["Kate Reading", "Michael Kramer"]
    assert way["series"] == [{"name": "The Stormlight Archive", "position_label": "1"}]
    assert way["locked_fields"] == ["isbn", "series", "title"]
    stormlight = next(series for series in document["series"] if series["name"] == "The Stormlight Archive")
    assert stormlight["total_known"] == 10
    assert stormlight["primary_author"] == "Brandon Sanderson"
    assert stormlight["authors"] == ["Brandon Sanderson", "Mary Robinette Kowal"]
    sanderson = next(author for author in document["authors"] if author["name"] == "Brandon Sanderson")
    assert (sanderson["monitored"], sanderson["books_known"], sanderson["openlibrary_id"]) == (True, 12, "OL1394865A")


def test_the_csv_file_joins_lists_and_writes_series_as_name_and_label():
    build_library()

    rows = list(csv.DictReader(io.StringIO(library_export(fmt="csv"), newline="")))

    assert tuple(rows[0]) == BOOK_KEYS
    edgedancer = next(row for row in rows if row["title"] == "Edgedancer")
    assert edgedancer["authors"] == "Brandon Sanderson | Mary Robinette Kowal"
    assert edgedancer["series"] == "The Stormlight Archive #2.5"
    assert edgedancer["abridged"] == "true"
    assert edgedancer["isbn"] == edgedancer["abs_id"] == edgedancer["bitrate_kbps"] == ""
    assert json.loads(edgedancer["metadata_sources"])["title"]["source"] == "manual"


def test_series_sharing_a_name_keep_their_books_apart_in_json():
    book_create(fields={"title": "Alpha"}, authors=["Ann Author"], series=[series_ref("Collected", "1")])
    book_create(fields={"title": "Beta"}, authors=["Bob Writer"], series=[series_ref("Collected", "1")])
    # A book by Bob in Ann's "Collected": only the entry's primary author tells the two apart.
    anns = Series.objects.get(primary_author__name="Ann Author")
    book_create(fields={"title": "Gamma"}, authors=["Bob Writer"], series=[series_ref(anns, "2")])
    before = library_dump()
    exported = library_export(fmt="json")
    wipe_library()

    _import(exported, "json")

    assert library_dump() == before
    gamma = next(book for book in json.loads(exported)["books"] if book["title"] == "Gamma")
    assert gamma["series"] == [{"name": "Collected", "position_label": "2", "primary_author": "Ann Author"}]


def test_a_series_name_with_a_hash_and_no_position_survives_csv():
    book_create(fields={"title": "Hashes"}, authors=["Ann Author"], series=[series_ref("Project #X", None)])
    exported = library_export(fmt="csv")
    assert "Project #X #" in exported
    wipe_library()

    _import(exported, "csv")

    entry = Book.objects.get().series_entries.get()
    assert (entry.series.name, entry.position, entry.position_label) == ("Project #X", None, "")


# --- matching ----------------------------------------------------------------------------------


def test_a_book_without_abs_id_is_matched_by_isbn_and_updated():
    book = book_create(fields={"title": "Old Title", "isbn": "9780000000002"}, authors=["Ann Author"])

    report = _import(_csv({"title": "New Title", "isbn": "978-0-000000-00-2", "abs_id": "li_new"}), "csv")

    assert (report.created, report.updated) == (0, 1)
    book.refresh_from_db()
    assert (book.title, book.abs_id) == ("New Title", "li_new")
    assert book.metadata_sources["title"]["source"] == "import"
    assert [a.name for a in book.authors.all()] == ["Ann Author"]  # no authors column: kept


def test_a_book_is_matched_by_title_and_first_author_when_identifiers_do_not_contradict():
    book = book_create(fields={"title": "The Calculating Stars"}, authors=["Mary Robinette Kowal"])

    report = _import(
        _csv({"title": "the calculating  stars", "authors": "Kowal, Mary Robinette", "asin": "B07"}), "csv"
    )

    assert (report.created, report.updated) == (0, 1)
    book.refresh_from_db()
    assert (book.title, book.asin) == ("the calculating  stars", "B07")


def test_a_title_match_with_another_isbn_is_another_edition():
    book_create(fields={"title": "Dune", "isbn": "9780000000001"}, authors=["Frank Herbert"])

    report = _import(_csv({"title": "Dune", "authors": "Frank Herbert", "isbn": "9780000000002"}), "csv")

    assert report.created == 1
    assert Book.objects.filter(title="Dune").count() == 2


def test_abs_id_wins_over_isbn():
    by_isbn = book_create(fields={"title": "A", "isbn": "9780000000001"})
    by_abs = book_create(fields={"title": "B", "abs_id": "li_b"})

    _import(_csv({"title": "B2", "isbn": "9780000000001", "abs_id": "li_b"}), "csv")

    by_isbn.refresh_from_db()
    by_abs.refresh_from_db()
    assert (by_isbn.title, by_abs.title) == ("A", "B2")


def test_only_the_changed_fields_are_written_and_the_files_sources_win():
    build_library()
    document = json.loads(library_export(fmt="json"))
    way = next(book for book in document["books"] if book["abs_id"] == "li_way")
    way["publisher"] = "Tor"
    way["narrators"] = ["Michael Kramer"]
    way["locked_fields"] = ["title"]

    report = _import(json.dumps(document), "json")

    assert (report.updated, report.unchanged) == (1, 5)
    book = Book.objects.get(abs_id="li_way")
    assert book.publisher == "Tor"
    assert [n.name for n in book.narrators.all()] == ["Michael Kramer"]
    assert book.locked_fields == ["title"]
    assert book.metadata_sources == way["metadata_sources"]


def test_a_hand_made_csv_with_a_few_columns_creates_books_with_defaults():
    report = _import(
        _csv(
            {"title": "Mistborn", "authors": "Brandon Sanderson", "series": "Mistborn #1", "abridged": ""},
            {"title": "Elantris", "authors": "Sanderson, Brandon", "series": "", "abridged": "yes"},
        ),
        "csv",
    )

    assert (report.created, report.authors.created, report.series.created) == (2, 1, 1)
    mistborn = Book.objects.get(title="Mistborn")
    assert (mistborn.status, mistborn.abridged, mistborn.abs_id) == ("active", False, None)
    assert mistborn.metadata_sources["authors"]["source"] == "import"
    assert mistborn.metadata_completeness == 40  # title, author, series, position
    assert Book.objects.get(title="Elantris").abridged is True
    assert Author.objects.get().books_owned == 2
    assert Series.objects.get().books_owned == 1


# --- bad records and bad files -----------------------------------------------------------------


def test_invalid_records_are_skipped_and_reported_and_the_rest_is_imported():
    text = _json(
        {"title": "Good", "authors": ["Ann Author"]},
        {"title": "Bad year", "published_year": "soon", "series": [{"name": "S", "position_label": "first"}]},
        {"title": "", "color": "blue"},
        {"title": "Good too", "abs_id": "li_1"},
        {"title": "Same abs", "abs_id": "li_1"},
        authors=[{"name": "Ann Author", "monitored": "maybe"}],
    )

    report = _import(text, "json")

    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert {(error["row"], tuple(error["loc"])) for error in report.errors} == {
        (None, ("authors", 0, "monitored")),
        (2, ("published_year",)),
        (2, ("series", 0, "position_label")),
        (3, ("title",)),
        (3, ("color",)),
        (5, ("abs_id",)),
    }
    assert set(Book.objects.values_list("title", flat=True)) == {"Good", "Good too"}


def test_a_failed_record_leaves_no_trace(monkeypatch):
    book_create(fields={"title": "Existing", "abs_id": "li_1"})

    def broken_update(**kwargs):
        raise ValueError("The update failed.")

    monkeypatch.setattr(transfer, "book_update", broken_update)
    text = _json(
        {"title": "Existing changed", "abs_id": "li_1", "authors": ["New Person"]},
        {"title": "Another", "authors": ["New Person"]},
    )

    report = _import(text, "json")

    assert report.errors == [{"row": 1, "loc": [], "msg": "The update failed."}]
    assert (report.created, report.updated, report.authors.created) == (1, 0, 1)
    assert [a.name for a in Book.objects.get(title="Another").authors.all()] == ["New Person"]


def test_a_batch_that_fails_is_written_book_by_book(monkeypatch):
    build_library()
    before = library_dump()
    exported = library_export(fmt="json")
    wipe_library()

    def broken(self, batch):
        raise IntegrityError("batch failed")

    monkeypatch.setattr(transfer._Importer, "_create_many", broken)
    report = _import(exported, "json")

    assert (report.created, report.errors) == (6, [])
    assert library_dump() == before


def test_a_dry_run_reports_and_writes_nothing():
    build_library()
    exported = library_export(fmt="json")
    wipe_library()

    report = _import(exported, "json", dry_run=True)

    assert (report.created, report.dry_run) == (6, True)
    assert not Book.objects.exists()
    assert not Author.objects.exists()


@pytest.mark.parametrize(
    ("fmt", "text", "row", "loc"),
    [
        ("json", '{"books": [', None, []),
        ("json", "[]", None, []),
        ("json", '{"format": "other", "books": []}', None, ["format"]),
        ("json", '{"version": 2, "books": []}', None, ["version"]),
        ("json", '{"books": {}}', None, ["books"]),
        ("json", '{"books": [{"title": "a"}, "b"]}', 2, []),
        ("json", '{"books": [], "authors": [1]}', None, ["authors", 0]),
        ("csv", "title,author\nA,B\n", None, ["header"]),
        ("csv", "authors\nB\n", None, ["header"]),
        ("csv", "title,isbn\nA,1\nB,2,3\n", 2, []),
        ("csv", "", None, []),
    ],
)
def test_a_file_that_cannot_be_read_raises_with_where(fmt, text, row, loc):
    with pytest.raises(LibraryFileError) as caught:
        _import(text, fmt)

    assert (caught.value.problems[0].row, caught.value.problems[0].loc) == (row, loc)
    assert not Book.objects.exists()


def test_bytes_that_are_not_utf8_are_refused():
    with pytest.raises(LibraryFileError, match="not UTF-8"):
        library_import(data=b"title\n\xff\xfe\n", fmt="csv")


def test_a_csv_cell_with_bad_json_is_reported_for_its_row():
    report = _import(_csv({"title": "A", "metadata_sources": "{nope"}, {"title": "B", "metadata_sources": "{}"}), "csv")

    assert [(error["row"], error["loc"]) for error in report.errors] == [(1, ["metadata_sources"])]
    assert Book.objects.get().title == "B"


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b'{"books": []}', "", "json"),
        (b"\xef\xbb\xbf  {", "", "json"),
        (b"title\n", "", "csv"),
        (b"title\n", "library.JSON", "json"),
        (b"{", "export.csv", "csv"),
    ],
)
def test_the_format_is_read_from_the_name_or_else_the_content(data, filename, expected):
    assert detect_format(data, filename=filename) == expected


def test_reading_a_csv_skips_blank_lines_and_keeps_text_as_written():
    parsed = read_library_file(data=b'title,series\n\n"  Spaced  ",A #1 | B\n', fmt="csv")

    assert parsed.books == [{"title": "  Spaced  ", "series": [{"name": "A", "position_label": "1"}, {"name": "B"}]}]


def test_a_series_entry_naming_its_primary_author_gets_exactly_that_series():
    book_create(fields={"title": "Other"}, authors=["Bob Writer"], series=[series_ref("Collected", "1")])
    entry = {"name": "Collected", "position_label": "2", "primary_author": "Ann Author"}

    _import(_json({"title": "Alpha", "authors": ["Bob Writer"], "series": [entry]}), "json")

    series = Book.objects.get(title="Alpha").series.get()
    assert (series.name, series.primary_author.name) == ("Collected", "Ann Author")
    assert Series.objects.count() == 2


def test_without_an_authors_column_the_stored_authors_lead_new_series():
    book_create(fields={"title": "Alpha", "isbn": "9780000000001"}, authors=["Ann Author"])

    _import(_csv({"title": "Alpha", "isbn": "9780000000001", "series": "Fresh #3"}), "csv")

    entry = Book.objects.get().series_entries.get()
    assert (entry.series.name, entry.series.primary_author.name, entry.position_label) == ("Fresh", "Ann Author", "3")
