"""The abs_sync job against a fake Audiobookshelf: import, idempotence, matching, drift, push, faults."""

import time
from contextlib import ExitStack
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from library.integrations import base
from library.models import Author, Book, BookFile, Narrator, Series
from library.services import abs_sync
from library.services.abs_sync import abs_item_map, abs_push_metadata, abs_scan_after_import
from library.services.books import book_lock_fields, book_update
from scheduler import schedules
from scheduler.choices import RunStatus, Trigger
from scheduler.models import JobRun
from scheduler.runner import job_run_now
from tests.factories import AuthorFactory, BookFactory
from tests.library.abs_fake import ALWAYS, fake_server, make_item, running_fake

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def abs_server():
    with fake_server() as server:
        yield server


@pytest.fixture
def start_fake(settings, monkeypatch, abs_server):
    """``start_fake(items=…, libraries=…)`` → a FakeAudiobookshelf the ABS settings point at."""
    monkeypatch.setattr(base, "_sleep", lambda seconds: None)
    with ExitStack() as stack:
        yield lambda **options: stack.enter_context(running_fake(settings, abs_server, **options))


def _sync(**params) -> JobRun:
    return job_run_now(name="abs_sync", trigger=Trigger.COMMAND, params=params)


def _outcomes(run: JobRun) -> tuple:
    return tuple(run.summary[key] for key in ("created", "updated", "unchanged", "failed"))


def _book(abs_id: str) -> Book:
    return Book.objects.get(abs_id=abs_id)


def _series(book: Book) -> list[tuple]:
    return [(e.series.name, e.position, e.position_end, e.position_label) for e in book.series_entries.all()]


def _authors(book: Book) -> list[str]:
    return [link.author.name for link in book.book_authors.select_related("author")]


# --- import and idempotence --------------------------------------------------------------


def test_it_imports_1200_items_from_3_libraries_in_pages_and_a_second_run_changes_nothing(start_fake):
    fake = start_fake(items=1200, libraries=3)

    started = time.monotonic()
    first = _sync()
    first_seconds = time.monotonic() - started

    assert first.status == RunStatus.SUCCEEDED, first.error
    assert Book.objects.count() == 1200
    assert _outcomes(first) == (1200, 0, 0, 0)
    assert [(lib["id"], lib["total"], lib["read"], lib["created"]) for lib in first.summary["libraries"]] == [
        ("lib_1", 400, 400, 400),
        ("lib_2", 400, 400, 400),
        ("lib_3", 400, 400, 400),
    ]
    for library in ("lib_1", "lib_2", "lib_3"):
        assert [query["page"] for query in fake.item_requests(library)] == ["0", "1", "2", "3"]
    assert (first.processed, first.succeeded, first.skipped, first.failed) == (1200, 1200, 0, 0)
    assert Series.objects.count() == 150 and Author.objects.count() == 97 + 11

    started = time.monotonic()
    second = _sync()
    second_seconds = time.monotonic() - started

    assert second.status == RunStatus.SUCCEEDED, second.error
    assert _outcomes(second) == (0, 0, 1200, 0)
    assert (second.processed, second.succeeded, second.skipped) == (1200, 0, 1200)
    assert second.summary["drift_count"] == 0 and second.summary["not_in_abs"] == 0
    assert Book.objects.count() == 1200
    # Measured at about 1.6 s and 0.5 s; the bounds only catch a return to per-item queries.
    assert first_seconds < 20 and second_seconds < 10, (first_seconds, second_seconds)


def test_an_unchanged_page_costs_the_same_queries_for_10_or_60_items(start_fake):
    fake = start_fake(items=10, libraries=1)
    _sync()
    with CaptureQueriesContext(connection) as few:
        _sync()
    more = [make_item(index, "lib_1") for index in range(10, 60)]
    fake.items["lib_1"] += more
    fake.by_id.update({item["id"]: item for item in more})
    _sync()
    with CaptureQueriesContext(connection) as many:
        _sync()

    # Per page: books by abs_id + their authors, narrators and series entries (4); the
    # rest is the run's own bookkeeping (JobRun, lock, cancellation check, not_in_abs).
    assert len(many) == len(few)


def test_it_maps_authors_narrators_series_positions_and_fields(start_fake):
    start_fake(items=30, libraries=2)

    run = _sync()

    assert run.status == RunStatus.SUCCEEDED, run.error
    third = _book("li_00003")
    assert (third.title, third.isbn, third.asin, third.published_year) == (
        "The Tale of Item 3",
        "9780000000003",
        "B000000003",
        1983,
    )
    assert (third.publisher, third.language, third.duration_seconds, third.size_bytes) == (
        "Fake House",
        "English",
        3603,
        50_000_003,
    )
    assert third.description == "The story of item 3."
    assert _series(third) == [("Saga 0", Decimal("3.5"), None, "3.5")]
    assert third.metadata_completeness == 100
    assert third.metadata_sources["title"]["source"] == "abs"
    assert {"authors", "narrators", "series", "abs_id"} <= set(third.metadata_sources)

    assert _series(_book("li_00006")) == [("Saga 0", Decimal("6"), Decimal("8"), "6-8")]
    assert _series(_book("li_00007")) == []
    assert _authors(_book("li_00009")) == ["Ada Writer1", "Cole Partner9"]
    assert _series(_book("li_00009")) == [("Saga 1", Decimal("2"), None, "2")]
    assert sorted(n.name for n in _book("li_00000").narrators.all()) == ["Nia Voice0", "Otto Reader0"]

    saga = Series.objects.get(name="Saga 0")
    assert saga.primary_author.name == "Ada Writer0"
    assert [a.name for a in saga.authors.all()] == ["Ada Writer0"]
    assert saga.books_owned == 7  # items 0-6; item 7 has no series
    assert Author.objects.get(name="Ada Writer0").books_owned == 8


def test_creating_a_page_at_once_gives_the_same_books_as_creating_them_one_by_one(start_fake, monkeypatch):
    def snapshot():
        books = [
            (
                book.abs_id,
                book.title,
                book.metadata_completeness,
                sorted(book.metadata_sources),
                {value["source"] for value in book.metadata_sources.values()},
                _authors(book),
                sorted(n.name for n in book.narrators.all()),
                _series(book),
            )
            for book in Book.objects.order_by("abs_id")
        ]
        series = [
            (s.name, s.primary_author.name, sorted(a.name for a in s.authors.all()), s.books_owned)
            for s in Series.objects.order_by("name")
        ]
        authors = [(a.name, a.books_owned) for a in Author.objects.order_by("name")]
        return books, series, authors

    start_fake(items=40, libraries=2)
    assert _sync().summary["created"] == 40
    at_once = snapshot()
    for model in (Book, Series, Author, Narrator):
        model.objects.all().delete()

    def broken(rows, source):
        raise RuntimeError("no bulk today")

    monkeypatch.setattr(abs_sync, "books_create_many", broken)
    run = _sync()

    assert _outcomes(run) == (40, 0, 0, 0)
    assert snapshot() == at_once


def test_an_item_without_a_title_fails_alone(start_fake):
    fake = start_fake(items=12, libraries=1)
    fake.set_metadata("li_00002", title=None)

    run = _sync()

    assert run.status == RunStatus.SUCCEEDED
    assert _outcomes(run) == (11, 0, 0, 1)
    assert run.failed == 1
    assert run.summary["errors"] == [{"abs_id": "li_00002", "error": "Item li_00002 has no title."}]


def test_podcast_libraries_are_skipped(start_fake):
    fake = start_fake(items=5, libraries=1)
    podcasts = fake.add_library(media_type="podcast")

    run = _sync()

    assert run.summary["skipped_libraries"] == [{"id": podcasts, "name": "Podcasts 2", "media_type": "podcast"}]
    assert fake.item_requests(podcasts) == []


def test_a_linked_book_missing_from_abs_is_counted(start_fake):
    fake = start_fake(items=6, libraries=1)
    _sync()
    fake.items["lib_1"].pop()

    run = _sync()

    assert run.summary["not_in_abs"] == 1
    assert Book.objects.count() == 6  # reported, never deleted


# --- matching existing books -------------------------------------------------------------


@pytest.mark.parametrize("how", ["path", "isbn", "asin", "title_author"])
def test_it_links_an_existing_scanned_book_instead_of_creating_a_duplicate(start_fake, settings, how):
    fake = start_fake(items=10, libraries=1)
    settings.LIBRARY_ROOT = "/srv/library"
    book = BookFactory(title="scanned folder name", language="", authors=[AuthorFactory(name="Writer0, Ada")])
    if how == "path":
        BookFile.objects.create(book=book, path=f"/srv/library/{fake.by_id['li_00005']['relPath']}/01 - Part.mp3")
    elif how == "isbn":
        book.isbn = "9780000000005"
    elif how == "asin":
        book.asin = "B000000005"
    else:
        book.title = "The Tale of Item 5 (Unabridged)"
    book.save()

    run = _sync()

    book.refresh_from_db()
    assert book.abs_id == "li_00005"
    assert Book.objects.count() == 10
    assert _outcomes(run) == (9, 1, 0, 0)
    assert run.summary["linked"][how] == 1
    # Empty fields (language, narrators, …) are filled from ABS; the title we had is kept and reported.
    assert [n.name for n in book.narrators.all()] == ["Nia Voice5"]
    assert book.isbn == "9780000000005" and book.language == "English"
    assert _series(book) == [("Saga 0", Decimal("5"), None, "5")]
    assert book.title != "The Tale of Item 5"
    assert [(d["book"], d["field"], d["theirs"]) for d in run.summary["drift"]] == [
        (book.pk, "title", "The Tale of Item 5")
    ]


def test_a_book_linked_to_another_item_is_not_taken(start_fake):
    start_fake(items=3, libraries=1)
    BookFactory(title="Other", isbn="9780000000001", abs_id="li_elsewhere")

    run = _sync()

    assert _outcomes(run) == (3, 0, 0, 0)
    assert Book.objects.get(abs_id="li_elsewhere").isbn == "9780000000001"


def test_relative_paths_that_climb_out_of_the_library_root_are_ignored(start_fake, settings):
    fake = start_fake(items=1, libraries=1)
    settings.LIBRARY_ROOT = "/srv/library"
    fake.by_id["li_00000"]["relPath"] = "../etc"
    fake.by_id["li_00000"]["path"] = "relative/not/absolute"
    BookFile.objects.create(book=BookFactory(title="Secrets"), path="/srv/etc/passwd")

    run = _sync()

    assert _outcomes(run) == (1, 0, 0, 0)
    assert run.summary["linked"]["path"] == 0


# --- drift and updates -------------------------------------------------------------------


def test_a_local_edit_is_kept_and_reported_as_drift(start_fake):
    start_fake(items=20, libraries=2)
    _sync()
    book = _book("li_00004")
    book_update(book=book, fields={"title": "My Own Title"}, narrators=["Somebody Else"], source="manual")

    run = _sync()

    assert _outcomes(run) == (0, 0, 20, 0)
    assert run.summary["drift_count"] == 2
    assert run.summary["drift_fields"] == {"narrators": 1, "title": 1}
    assert run.summary["drift"] == [
        {
            "book": book.pk,
            "abs_id": "li_00004",
            "field": "title",
            "ours": "My Own Title",
            "theirs": "The Tale of Item 4",
            "our_source": "manual",
            "locked": False,
        },
        {
            "book": book.pk,
            "abs_id": "li_00004",
            "field": "narrators",
            "ours": ["Somebody Else"],
            "theirs": ["Nia Voice4"],
            "our_source": "manual",
            "locked": False,
        },
    ]
    assert _book("li_00004").title == "My Own Title"


def test_a_change_in_abs_is_followed_when_our_value_came_from_abs(start_fake):
    fake = start_fake(items=10, libraries=1)
    _sync()
    fake.set_metadata(
        "li_00004",
        title="Renamed In ABS",
        series=[{"id": "ser_0", "name": "Saga 0", "sequence": "4.5"}],
        narrators=["New Voice"],
    )

    run = _sync()

    assert _outcomes(run) == (0, 1, 9, 0)
    assert run.summary["drift_count"] == 0
    book = _book("li_00004")
    assert book.title == "Renamed In ABS"
    assert _series(book) == [("Saga 0", Decimal("4.5"), None, "4.5")]
    assert [n.name for n in book.narrators.all()] == ["New Voice"]
    assert book.metadata_sources["title"]["source"] == "abs"
    assert _outcomes(_sync()) == (0, 0, 10, 0)


def test_a_change_in_abs_to_a_field_we_took_elsewhere_is_drift(start_fake):
    fake = start_fake(items=5, libraries=1)
    _sync()
    book_update(book=_book("li_00001"), fields={"publisher": "Our Publisher"}, source="openlibrary")
    fake.set_metadata("li_00001", publisher="Their Publisher")

    run = _sync()

    assert [(d["field"], d["ours"], d["theirs"], d["our_source"]) for d in run.summary["drift"]] == [
        ("publisher", "Our Publisher", "Their Publisher", "openlibrary")
    ]
    assert _book("li_00001").publisher == "Our Publisher"


def test_locked_fields_are_not_overwritten(start_fake):
    fake = start_fake(items=5, libraries=1)
    _sync()
    book = _book("li_00002")
    book_lock_fields(books=[book], fields=["title", "narrators"])
    fake.set_metadata("li_00002", title="Changed In ABS", narrators=["Replacement Voice"], publisher="New House")

    run = _sync()

    book = _book("li_00002")
    assert book.title == "The Tale of Item 2"
    assert [n.name for n in book.narrators.all()] == ["Nia Voice2"]
    assert book.publisher == "New House"  # not locked: followed
    assert _outcomes(run) == (0, 1, 4, 0)
    assert [(d["field"], d["locked"], d["our_source"]) for d in run.summary["drift"]] == [
        ("title", True, "abs"),
        ("narrators", True, "abs"),
    ]


def test_the_drift_report_is_capped_but_counts_everything(start_fake, monkeypatch):
    start_fake(items=30, libraries=1)
    monkeypatch.setattr(abs_sync, "DRIFT_LIMIT", 5)
    _sync()
    for book in Book.objects.all():
        book_update(book=book, fields={"subtitle": "Ours"}, source="manual")

    run = _sync()

    assert run.summary["drift_count"] == 30
    assert len(run.summary["drift"]) == 5
    assert run.summary["drift_fields"] == {"subtitle": 30}


# --- faults ------------------------------------------------------------------------------


def test_a_page_that_times_out_once_is_retried_and_the_run_completes(start_fake):
    fake = start_fake(items=300, libraries=3)
    fake.fail_page("lib_2", 0, mode="timeout")

    run = _sync()

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert _outcomes(run) == (300, 0, 0, 0)
    assert (run.summary["retries"], run.summary["error_count"]) == (1, 0)
    assert "GET /api/libraries/lib_2/items: timed out; retry 1/2" in run.log_tail
    assert [query["page"] for query in fake.item_requests("lib_2")] == ["0", "0"]


def test_a_page_failing_every_time_is_recorded_and_the_other_libraries_complete(start_fake, settings):
    fake = start_fake(items=300, libraries=3)
    settings.ABS_PAGE_SIZE = 50
    fake.fail_page("lib_1", 1, mode=503, times=ALWAYS)

    run = _sync()

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.failed == 1
    assert Book.objects.count() == 250
    libraries = {lib["id"]: (lib["read"], lib["created"], lib["error"] is None) for lib in run.summary["libraries"]}
    assert libraries == {"lib_1": (50, 50, False), "lib_2": (100, 100, True), "lib_3": (100, 100, True)}
    assert run.summary["errors"] == [
        {
            "library": "lib_1",
            "page": 1,
            "error": "Audiobookshelf answered HTTP 503 to GET /api/libraries/lib_1/items (3 attempts): Server error.",
        }
    ]
    assert run.summary["not_in_abs"] is None  # unknown while a library was not read whole
    assert "page 1 failed, going on with the next library" in run.log_tail

    # The next run, with ABS healthy again, picks up what was missed.
    fake.failures.clear()
    assert _outcomes(_sync()) == (50, 0, 250, 0)


def test_a_page_that_is_not_json_is_recorded(start_fake):
    fake = start_fake(items=20, libraries=2)
    fake.fail_page("lib_2", 0, mode="garbage", times=ALWAYS)

    run = _sync()

    assert run.status == RunStatus.SUCCEEDED
    assert Book.objects.count() == 10
    assert "sent a body that is not JSON (text/html" in run.summary["errors"][0]["error"]


def test_a_wrong_key_fails_the_run_with_a_readable_error(start_fake, settings):
    start_fake(items=5, libraries=1)
    settings.ABS_API_KEY = "not-the-right-key"

    run = _sync()

    assert run.status == RunStatus.FAILED
    assert run.error == (
        "Audiobookshelf: Audiobookshelf rejected the credentials (HTTP 401 on GET /api/libraries): "
        "check ABS_API_KEY (an Audiobookshelf API key, sent as a bearer token)."
    )
    assert "not-the-right-key" not in run.error + run.log_tail
    assert Book.objects.count() == 0


def test_without_configuration_the_run_fails_and_says_what_to_set(settings):
    settings.ABS_URL = ""

    run = _sync()

    assert run.status == RunStatus.FAILED
    assert run.error == "Audiobookshelf: Audiobookshelf is not configured: set ABS_URL and ABS_API_KEY."


# --- pushing back and scanning -----------------------------------------------------------


def test_push_is_off_by_default(start_fake):
    fake = start_fake(items=3, libraries=1)
    _sync()

    result = abs_push_metadata(book=_book("li_00001"), fields=["title"])

    assert result == {"pushed": [], "skipped": "ABS_PUSH_METADATA is off."}
    assert fake.patches == []


def test_push_patches_our_values_in_abs_shape(start_fake, settings):
    fake = start_fake(items=5, libraries=1)
    _sync()
    settings.ABS_PUSH_METADATA = True
    book = _book("li_00003")
    book_update(book=book, fields={"title": "Corrected Title"}, source="openlibrary")

    result = abs_push_metadata(
        book=book, fields=["title", "authors", "narrators", "series", "published_year", "duration_seconds"]
    )

    assert result == {
        "pushed": ["authors", "narrators", "publishedYear", "series", "title"],
        "abs_id": "li_00003",
    }
    assert fake.patches == [
        (
            "li_00003",
            {
                "metadata": {
                    "title": "Corrected Title",
                    "authors": [{"id": "new-0", "name": "Ada Writer0"}],
                    "narrators": ["Nia Voice3"],
                    "series": [{"id": "new-0", "name": "Saga 0", "sequence": "3.5"}],
                    "publishedYear": "1983",
                }
            },
        )
    ]
    # ABS now agrees: no drift on the next sync.
    assert _sync().summary["drift_count"] == 0


def test_push_skips_books_not_linked_to_abs(start_fake, settings):
    fake = start_fake(items=1, libraries=1)
    settings.ABS_PUSH_METADATA = True

    assert abs_push_metadata(book=BookFactory(), fields=["title"])["skipped"].startswith("The book is not linked")
    assert fake.patches == []


def test_a_sync_with_push_sends_our_side_of_the_drift(start_fake):
    fake = start_fake(items=8, libraries=1)
    _sync()
    book_update(book=_book("li_00005"), fields={"title": "Our Title"}, source="manual")

    run = _sync(push=True)

    assert (run.summary["pushed"], run.summary["drift_count"]) == (1, 0)
    assert fake.patches == [("li_00005", {"metadata": {"title": "Our Title"}})]
    assert _outcomes(_sync()) == (0, 0, 8, 0)


def test_scan_after_import_scans_every_book_library_or_the_one_asked_for(start_fake):
    fake = start_fake(items=4, libraries=2)
    fake.add_library(media_type="podcast")

    assert abs_scan_after_import() == {"scanned": ["lib_1", "lib_2"], "errors": []}
    assert abs_scan_after_import(library_id="lib_2") == {"scanned": ["lib_2"], "errors": []}
    assert fake.scans == ["lib_1", "lib_2", "lib_2"]


def test_scan_after_import_never_raises(start_fake, settings):
    start_fake(items=1, libraries=1)

    missing = abs_scan_after_import(library_id="nope")
    settings.ABS_URL = ""
    unconfigured = abs_scan_after_import()

    assert missing["scanned"] == [] and "HTTP 404" in missing["errors"][0]["error"]
    assert unconfigured["skipped"] == "Audiobookshelf is not configured."


# --- the command and the schedule --------------------------------------------------------


def test_the_command_runs_the_job_and_prints_its_summary(start_fake):
    start_fake(items=10, libraries=2)
    out = StringIO()

    call_command("sync_abs", stdout=out, stderr=StringIO())

    run = JobRun.objects.get(job="abs_sync")
    line = out.getvalue().strip()
    assert line.startswith(f"abs_sync #{run.pk} succeeded in ")
    assert "processed=10 succeeded=10 failed=0 skipped=0" in line
    assert '"created":10,"updated":0,"unchanged":0,"failed":0' in line
    assert run.trigger == Trigger.COMMAND


def test_the_command_passes_push_and_fails_loudly(start_fake, settings):
    start_fake(items=2, libraries=1)
    call_command("sync_abs", "--push", stdout=StringIO(), stderr=StringIO())
    assert JobRun.objects.get().params == {"push": True}

    settings.ABS_API_KEY = "wrong"
    with pytest.raises(CommandError, match="rejected the credentials"):
        call_command("sync_abs", stdout=StringIO(), stderr=StringIO())

    settings.ABS_URL = ""
    with pytest.raises(CommandError, match="set ABS_URL and ABS_API_KEY"):
        call_command("sync_abs", stdout=StringIO(), stderr=StringIO())


def test_the_job_is_scheduled_hourly_when_configured(settings):
    job = schedules.get_job("abs_sync")
    settings.ABS_URL, settings.ABS_API_KEY = "http://127.0.0.1:13378", ""
    assert (job.default_schedule, job.condition()) == ("1h", False)
    settings.ABS_API_KEY = "key"
    assert job.condition() is True


# --- mapping -----------------------------------------------------------------------------


def test_arrays_win_over_the_flat_name_fields():
    item = make_item(9, "lib_1")
    metadata = item["media"]["metadata"]
    metadata.update(authorName="Flat Author", narratorName="Flat Voice", seriesName="Flat Saga #9")

    mapped = abs_item_map(item)

    assert mapped.authors == ["Ada Writer1", "Cole Partner9"]
    assert mapped.narrators == ["Nia Voice9"]
    assert [(name, position.label) for name, position in mapped.series] == [("Saga 1", "2")]


def test_flat_name_fields_are_parsed_when_the_arrays_are_missing():
    item = make_item(1, "lib_1")
    metadata = item["media"]["metadata"]
    for key in ("authors", "narrators", "series"):
        del metadata[key]
    metadata.update(
        authorName="Sanderson, Brandon",
        narratorName="Kate Reading & Michael Kramer",
        seriesName="The Stormlight Archive #2.5, Cosmere #1-3, Prequels #Prequel",
    )

    mapped = abs_item_map(item)

    assert mapped.authors == ["Brandon Sanderson"]
    assert mapped.narrators == ["Kate Reading", "Michael Kramer"]
    assert [(name, position.start, position.end, position.label) for name, position in mapped.series] == [
        ("The Stormlight Archive", Decimal("2.5"), None, "2.5"),
        ("Cosmere", Decimal("1"), Decimal("3"), "1-3"),
        ("Prequels", None, None, ""),
    ]
    assert abs_item_map({**item, "media": {"metadata": {**metadata, "authorName": "A One, B Two"}}}).authors == [
        "A One",
        "B Two",
    ]


def test_identifiers_and_numbers_are_cleaned():
    item = make_item(1, "lib_1")
    item["media"]["metadata"].update(isbn="978-0-7653-2635-5", asin="b00abc1234 ", publishedYear="2010-08-31")
    item["media"].update(duration="not a number", size=-5)

    fields = abs_item_map(item).fields

    assert (fields["isbn"], fields["asin"], fields["published_year"]) == ("9780765326355", "B00ABC1234", 2010)
    assert (fields["duration_seconds"], fields["size_bytes"]) == (None, None)
    item["media"]["metadata"].update(isbn="not an isbn at all", asin="toolongasin123")
    assert (abs_item_map(item).fields["isbn"], abs_item_map(item).fields["asin"]) == ("", "")
