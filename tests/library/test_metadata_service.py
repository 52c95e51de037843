"""``book_correct_metadata`` and ``correction_revert``: what changes, what is kept, what is recorded."""

from datetime import date

import pytest

from library.models import Book, MetadataCorrection
from library.services.books import book_lock_fields, book_update
from library.services.metadata import book_correct_metadata, correction_revert
from library.services.metadata_history import CHECKED
from mamcrawler.api.exceptions import Conflict, ExternalApiError
from tests.factories import UserFactory
from tests.library.metadata_fakes import install, record, series_of, sparse_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def providers(monkeypatch):
    return install(monkeypatch)


def names(queryset):
    return list(queryset.values_list("name", flat=True))


def corrections(book, **filters):
    return {c.field: c for c in MetadataCorrection.objects.filter(book=book, **filters)}


def test_it_asks_the_registry_with_the_books_identifiers(providers):
    book = sparse_book(isbn="9780765326355")

    book_correct_metadata(book=book, providers=["audnexus"])

    assert providers.calls == [
        {
            "isbn": "9780765326355",
            "asin": "",
            "title": "The Way of Kings (Unabridged)",
            "author": "Brandon Sanderson",
            "providers": ["audnexus"],
        }
    ]


def test_by_default_it_fills_empty_fields_only(providers):
    book = sparse_book(publisher="Gollancz")
    providers.records = [record("audnexus")]

    result = book_correct_metadata(book=book)

    book.refresh_from_db()
    assert result.matched
    assert book.publisher == "Gollancz"  # filled already: kept
    assert book.title == "The Way of Kings (Unabridged)"
    assert book.isbn == "9780765326355"
    assert book.description.startswith("Roshar")
    assert book.published_date == date(2010, 8, 31)
    assert book.duration_seconds == 163_000
    assert names(book.narrators.order_by("name")) == ["Kate Reading", "Michael Kramer"]
    entry = book.series_entries.select_related("series").get()
    assert (entry.series.name, entry.position_label) == ("The Stormlight Archive", "1")
    assert book.metadata_completeness == 100
    assert {skip.field: skip.reason for skip in result.skipped} == {"title": "not_empty", "publisher": "not_empty"}
    assert set(result.changed_fields) >= {"isbn", "asin", "narrators", "series", "description", "duration_seconds"}


def test_each_change_is_a_correction_and_a_source_stamp(providers):
    book = sparse_book()
    providers.records = [record("audnexus", isbn="", asin="", duration_seconds=None, publisher="")]
    providers.records.append(record("openlibrary", narrators=[], publisher="Tor Books"))
    user = UserFactory()

    book_correct_metadata(book=book, source_user=user)

    book.refresh_from_db()
    rows = corrections(book)
    assert rows["publisher"].source == "openlibrary"
    assert rows["publisher"].old_value == "" and rows["publisher"].new_value == "Tor Books"
    assert rows["narrators"].source == "audnexus"
    assert rows["narrators"].new_value == ["Kate Reading", "Michael Kramer"]
    assert rows["series"].new_value == [{"series": "The Stormlight Archive", "position": "1"}]
    assert rows["published_date"].new_value == "2010-08-31"
    assert rows["isbn"].confidence == 1.0 and rows["isbn"].source == "openlibrary"
    assert rows["narrators"].reason == "audnexus: title 100, author 100"
    assert all(row.created_by == user and row.job_run is None for row in rows.values())
    assert book.metadata_sources["publisher"]["source"] == "openlibrary"
    assert book.metadata_sources["publisher"]["confidence"] == 1.0
    assert book.metadata_sources["narrators"]["source"] == "audnexus"
    assert book.metadata_sources[CHECKED]["matched"] == ["audnexus", "openlibrary"]


def test_a_record_that_is_not_the_book_changes_nothing(providers):
    book = sparse_book(duration_seconds=100_000)
    providers.records = [record(isbn="", asin="")]  # 163,000 s: another recording

    result = book_correct_metadata(book=book)

    book.refresh_from_db()
    assert not result.matched
    assert result.changed == []
    assert book.publisher == ""
    assert not MetadataCorrection.objects.filter(book=book).exists()
    assert "runtime" in result.candidates[0].reason
    assert book.metadata_sources[CHECKED]["matched"] == []


def test_overwrite_replaces_values_of_less_confident_sources(providers):
    book = sparse_book(publisher="Gollancz")  # source scan: confidence 0.5
    providers.records = [record(isbn="", asin="", title="The Way of Kings")]

    result = book_correct_metadata(book=book, overwrite=True)

    book.refresh_from_db()
    assert book.publisher == "Tor Books"
    assert book.title == "The Way of Kings"
    assert corrections(book)["publisher"].old_value == "Gollancz"
    assert "publisher" in result.changed_fields


def test_overwrite_keeps_values_of_more_confident_sources(providers):
    book = sparse_book()
    providers.records = [record("openlibrary", publisher="Tor Books")]
    book_correct_metadata(book=book)  # title and author identical: confidence 1.0
    book.refresh_from_db()
    assert book.metadata_sources["publisher"]["confidence"] == 1.0
    providers.records = [record("googlebooks", publisher="Tor", title="Way of Kings", isbn="", asin="")]

    result = book_correct_metadata(book=book, overwrite=True)

    book.refresh_from_db()
    assert book.publisher == "Tor Books"
    assert result.candidates[0].confidence < 1.0
    assert {skip.field: skip.reason for skip in result.skipped}["publisher"] == "lower_confidence"


def test_overwrite_keeps_a_runtime_measured_from_the_files(providers):
    book = sparse_book(duration_seconds=160_000)  # read by the scan
    providers.records = [record(isbn="", asin="")]  # 163,000 s: within 5 %, the same recording

    result = book_correct_metadata(book=book, overwrite=True)

    assert Book.objects.get().duration_seconds == 160_000
    assert {skip.field: skip.reason for skip in result.skipped}["duration_seconds"] == "lower_confidence"


def test_overwrite_never_replaces_a_persons_value(providers):
    book = sparse_book()
    book_update(book=book, fields={"publisher": "My Own Edition"}, user=UserFactory())
    providers.records = [record(isbn="", asin="")]

    result = book_correct_metadata(book=book, overwrite=True)

    book.refresh_from_db()
    assert book.publisher == "My Own Edition"
    assert {skip.field: skip.reason for skip in result.skipped}["publisher"] == "manual"


def test_locked_fields_are_never_changed(providers):
    book = sparse_book(publisher="Gollancz")
    book_lock_fields(books=[book], fields=["publisher", "narrators", "description", "title"])
    providers.records = [record()]

    result = book_correct_metadata(book=book, overwrite=True)

    book.refresh_from_db()
    assert (book.publisher, book.description, book.title) == ("Gollancz", "", "The Way of Kings (Unabridged)")
    assert not book.narrators.exists()
    skipped = {skip.field: skip.reason for skip in result.skipped}
    assert {skipped[name] for name in ("publisher", "narrators", "description", "title")} == {"locked"}
    assert not MetadataCorrection.objects.filter(book=book, field__in=book.locked_fields).exists()
    assert book.isbn == "9780765326355"  # the rest still filled


def test_a_series_position_is_filled_but_the_book_never_changes_series(providers):
    in_series = sparse_book()
    book_update(book=in_series, fields={}, series=series_of(None), source="scan")
    elsewhere = sparse_book(title="The Way of Kings")
    book_update(book=elsewhere, fields={}, series=series_of("1", name="Cosmere"), source="scan")
    providers.records = [record(isbn="", asin="", series_position="1")]

    book_correct_metadata(book=in_series)
    result = book_correct_metadata(book=elsewhere, overwrite=True)

    assert in_series.series_entries.get().position_label == "1"
    assert [e.series.name for e in elsewhere.series_entries.select_related("series")] == ["Cosmere"]
    assert {skip.field: skip.reason for skip in result.skipped}["series"] == "different_series"


def test_authors_are_filled_in_display_form(providers):
    book = Book.objects.create(title="The Way of Kings", isbn="9780765326355")
    providers.records = [record(authors=["Sanderson, Brandon"])]

    book_correct_metadata(book=book)

    assert names(book.authors.all()) == ["Brandon Sanderson"]
    assert corrections(book)["authors"].new_value == ["Brandon Sanderson"]


def test_degraded_providers_are_reported(providers):
    providers.records = [record(isbn="", asin="")]
    providers.degraded = ["hardcover"]
    providers.from_cache = ["openlibrary"]

    result = book_correct_metadata(book=sparse_book())

    assert (result.degraded, result.from_cache) == (["hardcover"], ["openlibrary"])
    assert Book.objects.get().metadata_sources[CHECKED]["degraded"] == ["hardcover"]


def test_changes_are_pushed_to_audiobookshelf_and_a_failed_push_is_only_logged(providers, settings, monkeypatch):
    settings.ABS_PUSH_METADATA = True
    pushed = []

    def push(*, book, fields):
        pushed.append(fields)
        raise ExternalApiError("down", service="Audiobookshelf")

    monkeypatch.setattr("library.services.abs_sync.abs_push_metadata", push)
    book = sparse_book(abs_id="li_1")
    providers.records = [record(isbn="", asin="")]

    result = book_correct_metadata(book=book)

    assert pushed == [result.changed_fields]
    assert result.pushed["pushed"] == [] and "down" in result.pushed["error"]
    assert Book.objects.get().publisher == "Tor Books"


# --- revert -----------------------------------------------------------------------------------


@pytest.fixture
def corrected(providers):
    book = sparse_book()
    providers.records = [record(isbn="", asin="")]
    book_correct_metadata(book=book)
    book.refresh_from_db()
    return book


def test_revert_restores_the_old_value_and_records_itself(corrected):
    user = UserFactory(username="undoer")
    publisher = MetadataCorrection.objects.get(book=corrected, field="publisher")

    result = correction_revert(correction=publisher, user=user)

    corrected.refresh_from_db()
    assert corrected.publisher == ""
    assert result.reverted.reverted_at is not None and result.reverted.reverted_by == user
    assert (result.correction.source, result.correction.reason) == ("manual", f"revert of #{publisher.pk}")
    assert (result.correction.old_value, result.correction.new_value) == ("Tor Books", "")
    assert result.correction.reverts == publisher
    assert corrected.metadata_sources["publisher"]["source"] == "manual"


def test_relations_and_dates_are_restored(corrected):
    for name in ("narrators", "series", "published_date"):
        correction_revert(correction=MetadataCorrection.objects.get(book=corrected, field=name), user=None)

    corrected.refresh_from_db()
    assert not corrected.narrators.exists()
    assert not corrected.series_entries.exists()
    assert corrected.published_date is None


def test_revert_refuses_when_the_field_changed_again(corrected):
    publisher = MetadataCorrection.objects.get(book=corrected, field="publisher")
    book_update(book=corrected, fields={"publisher": "Someone Else"})

    with pytest.raises(Conflict, match="changed again"):
        correction_revert(correction=publisher, user=None)

    correction_revert(correction=publisher, user=None, force=True)
    corrected.refresh_from_db()
    assert corrected.publisher == ""


def test_revert_refuses_a_value_changed_behind_the_history(corrected):
    publisher = MetadataCorrection.objects.get(book=corrected, field="publisher")
    Book.objects.filter(pk=corrected.pk).update(publisher="Direct")

    with pytest.raises(Conflict):
        correction_revert(correction=publisher, user=None)


def test_a_change_undone_by_its_own_revert_no_longer_blocks_older_ones(corrected):
    first = MetadataCorrection.objects.get(book=corrected, field="publisher")
    book_update(book=corrected, fields={"publisher": "Second"})
    second = MetadataCorrection.objects.get(book=corrected, field="publisher", new_value="Second")
    correction_revert(correction=second, user=None)

    correction_revert(correction=first, user=None)

    corrected.refresh_from_db()
    assert corrected.publisher == ""


def test_revert_refuses_a_locked_field_unless_forced_and_never_twice(corrected):
    publisher = MetadataCorrection.objects.get(book=corrected, field="publisher")
    book_lock_fields(books=[corrected], fields=["publisher"])

    with pytest.raises(Conflict, match="locked"):
        correction_revert(correction=publisher, user=None)
    correction_revert(correction=publisher, user=None, force=True)
    with pytest.raises(Conflict, match="already reverted"):
        correction_revert(correction=publisher, user=None, force=True)


# --- a person's edits -------------------------------------------------------------------------


def test_a_persons_edit_writes_corrections_and_other_sources_do_not():
    user = UserFactory()
    book = sparse_book(publisher="Tor")
    assert not MetadataCorrection.objects.exists()  # the scan keeps no history

    book_update(
        book=book,
        fields={"publisher": "Tor Books", "title": book.title},
        narrators=["Kate Reading"],
        user=user,
    )

    rows = corrections(book)
    assert set(rows) == {"publisher", "narrators"}
    assert (rows["publisher"].old_value, rows["publisher"].new_value) == ("Tor", "Tor Books")
    assert (rows["narrators"].old_value, rows["narrators"].new_value) == ([], ["Kate Reading"])
    assert {row.source for row in rows.values()} == {"manual"}
    assert {row.created_by for row in rows.values()} == {user}
