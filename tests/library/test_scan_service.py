"""The library_scan job on real (tiny) audio files in a temporary LIBRARY_ROOT."""

import os
from decimal import Decimal

import pytest

from library.choices import BookStatus
from library.models import Author, Book, BookFile, Narrator, Series, SeriesEntry, book_completeness
from library.services import scan as scan_service
from library.services.books import book_create, book_lock_fields, series_ref
from scheduler.choices import RunStatus, Trigger
from scheduler.context import JobContext
from scheduler.models import JobRun
from scheduler.runner import job_run_now
from tests.library.audio import write_corrupt, write_mp3, write_mp4

pytestmark = pytest.mark.django_db

ITUNES = "----:com.apple.iTunes:"


@pytest.fixture
def library(tmp_path, settings):
    root = tmp_path / "library"
    root.mkdir()
    settings.LIBRARY_ROOT = str(root)
    return root


def scan(**params) -> JobRun:
    run = job_run_now(name="library_scan", trigger=Trigger.COMMAND, params=params)
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


def mp3_book(folder, tracks=3, seconds=600, **tags):
    """``tracks`` MP3s; with tags, each also gets its chapter title (without, they are untagged)."""
    for track in range(1, tracks + 1):
        write_mp3(
            folder / f"{track:02d}.mp3", seconds=seconds, tags={**tags, "TIT2": f"Chapter {track}"} if tags else None
        )


def book(title) -> Book:
    return Book.objects.get(title=title)


def series_of(item: Book) -> list[tuple[str, Decimal | None, str]]:
    return [(e.series.name, e.position, e.position_label) for e in item.series_entries.select_related("series")]


# --- first scan ---------------------------------------------------------------------------------


def test_a_first_scan_creates_books_with_authors_narrators_series_and_durations(library):
    write_mp4(
        library / "Brandon Sanderson" / "Mistborn" / "01 - The Final Empire.m4b",
        seconds=89_000,
        chapters=[(0, "Prologue"), (600, "One")],
        tags={
            "©alb": "The Final Empire",
            "©ART": "Brandon Sanderson",
            "©wrt": "Michael Kramer",
            "©mvn": "Mistborn",
            "©mvi": 1,
            "©day": "2006-07-17",
            f"{ITUNES}ASIN": "B002UZMLXM",
        },
    )
    mp3_book(
        library / "Robert Jordan" / "The Wheel of Time" / "The Eye of the World",
        tracks=3,
        seconds=1200,
        TALB="The Eye of the World",
        TPE1="Robert Jordan",
        TCOM="Kate Reading, Michael Kramer",
        TIT1="The Wheel of Time, Book 1",
        **{"TXXX:ISBN": "978-1-4272-0241-3"},
    )

    run = scan()

    assert (run.summary["created"], run.summary["files"], run.summary["errors"]) == (2, 4, 0)
    assert (run.processed, run.succeeded, run.failed, run.skipped) == (2, 2, 0, 0)
    final = book("The Final Empire")
    assert [a.name for a in final.authors.all()] == ["Brandon Sanderson"]
    assert [n.name for n in final.narrators.all()] == ["Michael Kramer"]
    assert series_of(final) == [("Mistborn", Decimal("1"), "1")]
    assert (final.duration_seconds, final.format, final.bitrate_kbps, final.asin) == (89_000, "m4b", 64, "B002UZMLXM")
    assert (final.published_year, str(final.published_date)) == (2006, "2006-07-17")
    [file] = final.files.all()
    assert (file.codec, file.chapters, file.duration_seconds) == ("aac", 2, 89_000.0)
    eye = book("The Eye of the World")
    assert sorted(n.name for n in eye.narrators.all()) == ["Kate Reading", "Michael Kramer"]
    assert series_of(eye) == [("The Wheel of Time", Decimal("1"), "1")]
    assert (eye.duration_seconds, eye.format, eye.isbn, eye.files.count()) == (3600, "mp3", "9781427202413", 3)
    assert Narrator.objects.filter(name="Michael Kramer").count() == 1
    assert final.metadata_sources["title"]["source"] == "scan"


def test_new_books_score_completeness_and_refresh_cached_counts(library):
    write_mp4(library / "Ann Leckie" / "Imperial Radch" / "01 - Ancillary Justice.m4b", tags={"©wrt": "Adjoa Andoh"})
    write_mp4(library / "Ann Leckie" / "Imperial Radch" / "02 - Ancillary Sword.m4b")

    scan()

    for item in Book.objects.all():
        assert item.metadata_completeness == book_completeness(item)
    assert Series.objects.get(name="Imperial Radch").books_owned == 2
    assert Author.objects.get(name="Ann Leckie").books_owned == 2
    assert Series.objects.get().primary_author == Author.objects.get()


def test_positions_such_as_2_5_and_an_omnibus_range_are_kept(library, viewer_client):
    mistborn = library / "Brandon Sanderson" / "Mistborn"
    write_mp4(mistborn / "01 - The Final Empire.m4b", tags={"©mvn": "Mistborn", "©mvi": 1})
    mp3_book(mistborn / "Mistborn #2.5 - The Eleventh Metal", tracks=2)
    mp3_book(mistborn / "01-03 - The Mistborn Trilogy", tracks=2)

    scan()

    series = Series.objects.get(name="Mistborn")
    assert series.books_owned == 3
    response = viewer_client.get(f"/api/v1/series/{series.id}/books/")
    assert response.status_code == 200
    rows = [(row["title"], row["position"], row["position_label"]) for row in response.json()["results"]]
    assert rows == [
        ("The Final Empire", "1", "1"),
        ("The Mistborn Trilogy", "1", "1-3"),
        ("The Eleventh Metal", "2.5", "2.5"),
    ]
    assert SeriesEntry.objects.get(book__title="The Mistborn Trilogy").position_end == Decimal("3")


def test_untagged_files_take_author_series_position_and_title_from_the_folders(library):
    mp3_book(library / "Sanderson, Brandon" / "Mistborn" / "03 - The Hero of Ages", tracks=2)

    run = scan()

    item = book("The Hero of Ages")
    assert [a.name for a in item.authors.all()] == ["Brandon Sanderson"]
    assert series_of(item) == [("Mistborn", Decimal("3"), "3")]
    assert {"path": "Sanderson, Brandon/Mistborn/03 - The Hero of Ages", "kind": "no_tags"} in [
        {"path": p["path"], "kind": p["kind"]} for p in run.summary["problems"]
    ]
    assert run.summary["warnings"] == 1 and run.summary["errors"] == 0


def test_the_folder_completes_a_series_tag_without_a_part(library):
    mp3_book(library / "Terry Pratchett" / "Discworld" / "04 - Mort", tracks=1, TALB="Mort", MVNM="Discworld")

    scan()

    assert series_of(book("Mort")) == [("Discworld", Decimal("4"), "4")]


def test_id3_series_frames_and_a_bracketed_album(library):
    mp3_book(library / "A" / "One", tracks=1, TALB="One", TPE1="Writer", **{"TXXX:SERIES": "Saga", "MVIN": "2/9"})
    mp3_book(library / "A" / "Two", tracks=1, TALB="Two (Other Saga #3)", TPE1="Writer")

    scan()

    assert series_of(book("One")) == [("Saga", Decimal("2"), "2")]
    assert series_of(book("Two")) == [("Other Saga", Decimal("3"), "3")]


def test_each_m4b_in_a_folder_is_its_own_book(library):
    folder = library / "Martha Wells" / "Murderbot"
    for number, title in enumerate(["All Systems Red", "Artificial Condition", "Rogue Protocol"], 1):
        write_mp4(folder / f"{number:02d} - {title}.m4b", seconds=3600 * number)

    scan()

    assert Book.objects.count() == 3
    assert book("Rogue Protocol").duration_seconds == 10_800
    assert series_of(book("Artificial Condition")) == [("Murderbot", Decimal("2"), "2")]


def test_a_multi_file_book_sums_its_durations_and_sizes(library):
    folder = library / "Frank Herbert" / "Dune"
    mp3_book(folder / "CD1", tracks=2, seconds=1800, TALB="Dune", TPE1="Frank Herbert")
    mp3_book(folder / "CD2", tracks=2, seconds=1800, TALB="Dune", TPE1="Frank Herbert")

    scan()

    dune = book("Dune")
    assert dune.files.count() == 4
    assert dune.duration_seconds == 7200
    assert dune.size_bytes == sum(f.size_bytes for f in dune.files.all())


# --- re-scans ---------------------------------------------------------------------------------------


def _context() -> JobContext:
    return JobContext(JobRun.objects.create(job="library_scan", trigger=Trigger.COMMAND))


@pytest.mark.parametrize("books", [3, 12])
def test_an_unchanged_rescan_reads_no_file_and_costs_two_queries(
    library, books, monkeypatch, django_assert_num_queries
):
    for number in range(books):
        mp3_book(library / "Author" / f"Book {number}", tracks=2, TALB=f"Book {number}")
    scan()
    before = dict(Book.objects.values_list("id", "updated_at"))

    def no_reading(*args, **kwargs):
        raise AssertionError("an unchanged file was read")

    monkeypatch.setattr(scan_service, "read_audio", no_reading)
    job = _context()
    # 1: the known BookFiles under the root (path, size, mtime, book); 2: has the run been cancelled?
    with django_assert_num_queries(2):
        summary = scan_service.library_scan_run(job=job)

    assert (summary["unchanged"], summary["files_read"], summary["created"], summary["updated"]) == (books, 0, 0, 0)
    assert dict(Book.objects.values_list("id", "updated_at")) == before


def test_a_retagged_file_updates_its_book(library):
    path = write_mp4(library / "Author" / "Title.m4b", tags={"©alb": "Old Title", "©ART": "Old Writer"})
    scan()
    write_mp4(path, seconds=7200, tags={"©alb": "New Title", "©ART": "New Writer", "©mvn": "Saga", "©mvi": 2})

    run = scan()

    assert (run.summary["updated"], run.summary["created"], run.summary["files_read"]) == (1, 0, 1)
    item = Book.objects.get()
    assert (item.title, item.duration_seconds) == ("New Title", 7200)
    assert [a.name for a in item.authors.all()] == ["New Writer"]
    assert series_of(item) == [("Saga", Decimal("2"), "2")]
    assert item.files.get().size_bytes == path.stat().st_size


def test_a_touched_but_identical_file_is_read_again_but_changes_nothing(library):
    path = write_mp4(library / "Author" / "Title.m4b", tags={"©alb": "Same"})
    scan()
    os.utime(path, (1_800_000_000, 1_800_000_000))

    run = scan()

    assert (run.summary["unchanged"], run.summary["updated"], run.summary["files_read"]) == (1, 0, 1)
    assert BookFile.objects.get().mtime == 1_800_000_000
    assert scan().summary["files_read"] == 0


def test_locked_fields_and_fields_set_by_hand_survive_a_rescan(library):
    path = write_mp4(library / "Author" / "Title.m4b", tags={"©alb": "Tagged", "©pub": "Tag Press"})
    scan()
    item = Book.objects.get()
    book_lock_fields(books=[item], fields=["title"])
    from library.services.books import book_update

    book_update(book=item, fields={"publisher": "Real Press"}, source="manual")
    write_mp4(path, seconds=100, tags={"©alb": "Retagged", "©pub": "Other Press"})

    scan()

    item.refresh_from_db()
    assert (item.title, item.publisher, item.duration_seconds) == ("Tagged", "Real Press", 100)


def test_a_book_whose_files_vanished_is_archived_not_deleted(library, viewer_client):
    mp3_book(library / "Author" / "Gone", tracks=2, TALB="Gone")
    mp3_book(library / "Author" / "Kept", tracks=2, TALB="Kept")
    scan()
    for track in (library / "Author" / "Gone").iterdir():
        track.unlink()

    run = scan()

    assert (run.summary["archived"], run.summary["unchanged"]) == (1, 1)
    gone = book("Gone")
    assert gone.status == BookStatus.ARCHIVED and not gone.files.exists()
    assert book("Kept").status == BookStatus.ACTIVE
    assert Author.objects.get().books_owned == 1


def test_a_book_that_lost_some_files_is_updated(library):
    mp3_book(library / "Author" / "Title", tracks=3, seconds=600, TALB="Title")
    scan()
    (library / "Author" / "Title" / "03.mp3").unlink()

    run = scan()

    item = book("Title")
    assert (run.summary["archived"], item.files.count(), item.duration_seconds) == (0, 2, 1200)


def test_files_that_come_back_restore_their_archived_book(library):
    folder = library / "Author" / "Title"
    mp3_book(folder, tracks=1, TALB="Title", TPE1="Author")
    mp3_book(library / "Author" / "Other", tracks=1, TALB="Other", TPE1="Author")
    scan()
    moved = folder.rename(library.parent / "aside")
    scan()
    assert book("Title").status == BookStatus.ARCHIVED

    moved.rename(folder)
    run = scan()

    assert (run.summary["restored"], run.summary["created"]) == (1, 0)
    assert book("Title").status == BookStatus.ACTIVE
    assert Book.objects.count() == 2


def test_a_renamed_folder_keeps_its_book(library):
    mp3_book(library / "Author" / "Titel", tracks=2, TALB="Title")
    scan()
    original = Book.objects.get()
    (library / "Author" / "Titel").rename(library / "Author" / "Title")

    run = scan()

    assert (run.summary["created"], run.summary["archived"]) == (0, 0)
    assert Book.objects.get() == original
    assert sorted(BookFile.objects.values_list("path", flat=True)) == [
        str(library / "Author" / "Title" / "01.mp3"),
        str(library / "Author" / "Title" / "02.mp3"),
    ]


def test_a_book_without_files_is_matched_instead_of_duplicated(library):
    existing = book_create(fields={"title": "Dune", "asin": "B002V1OF70"}, authors=["Frank Herbert"])
    write_mp4(library / "Frank Herbert" / "Dune.m4b", tags={"©alb": "Dune", f"{ITUNES}ASIN": "B002V1OF70"})

    run = scan()

    assert (run.summary["created"], run.summary["updated"]) == (0, 1)
    assert Book.objects.get() == existing
    assert existing.files.count() == 1


# --- bad data ---------------------------------------------------------------------------------------


def test_bad_data_is_reported_and_the_rest_of_the_run_completes(library):
    write_corrupt(library / "Broken Author" / "Broken" / "01.mp3")
    write_mp3(library / "Ünïcødé Äuthor" / "Zwölf Brüder ⁄ Band 1" / "01.mp3")
    write_mp4(library / "Author" / "Slashes.m4b", tags={"©alb": "AC/DC: Either/Or – Ω", "©ART": "Ånna / Bob"})
    bad_name = os.path.join(os.fsencode(library / "Author"), b"caf\xe9.m4b")
    with open(bad_name, "wb") as handle:
        handle.write(b"x")
    mp3_book(library / "Author" / "Half Broken", tracks=2, TALB="Half Broken")
    write_corrupt(library / "Author" / "Half Broken" / "03.mp3")

    run = scan()

    kinds = sorted((p["kind"], p["path"]) for p in run.summary["problems"])
    assert kinds == [
        ("bad_name", "Author/caf\ufffd.m4b"),
        ("no_tags", "Ünïcødé Äuthor/Zwölf Brüder ⁄ Band 1"),
        ("unreadable_audio", "Author/Half Broken/03.mp3"),
        ("unreadable_audio", "Broken Author/Broken/01.mp3"),
    ]
    assert (run.summary["errors"], run.summary["warnings"], run.summary["created"]) == (3, 1, 3)
    assert run.failed == 3
    assert "unreadable_audio Broken Author/Broken/01.mp3" in run.log_tail
    slashes = book("AC/DC: Either/Or – Ω")
    assert sorted(a.name for a in slashes.authors.all()) == ["Bob", "Ånna"]
    assert [a.name for a in book("Zwölf Brüder ⁄ Band 1").authors.all()] == ["Ünïcødé Äuthor"]
    assert book("Half Broken").files.count() == 2


def test_a_book_with_an_unreadable_file_is_left_as_it_was(library):
    mp3_book(library / "Author" / "Title", tracks=2, seconds=600, TALB="Title")
    scan()
    write_corrupt(library / "Author" / "Title" / "02.mp3")

    run = scan()

    assert [p["kind"] for p in run.summary["problems"]] == ["unreadable_audio", "not_updated"]
    assert book("Title").duration_seconds == 1200


def test_a_symlink_out_of_the_root_is_refused(library, tmp_path):
    mp3_book(tmp_path / "private" / "Secret", tracks=1, TALB="Secret")
    (library / "Escape").symlink_to(tmp_path / "private")

    run = scan()

    assert not Book.objects.exists()
    assert [(p["path"], p["kind"]) for p in run.summary["problems"]] == [("Escape", "outside_root")]


def test_long_tag_values_are_cut_to_the_model_lengths(library):
    write_mp4(library / "A" / "Long.m4b", tags={"©alb": "T" * 900, "©ART": "W" * 400, "©mvn": "S" * 400})

    scan()

    item = Book.objects.get()
    assert len(item.title) == 500
    assert len(item.authors.get().name) == 200
    assert len(item.series.get().name) == 200


# --- dry run, sub-folders, configuration ----------------------------------------------------------------


def test_a_dry_run_writes_nothing_and_says_what_would_change(library):
    mp3_book(library / "Author" / "Title", tracks=2, TALB="Title")

    run = scan(dry_run=True)

    assert (run.summary["dry_run"], run.summary["created"], run.summary["files_read"]) == (True, 1, 2)
    assert not Book.objects.exists() and not Author.objects.exists() and not BookFile.objects.exists()


def test_a_dry_run_after_changes_reports_updates_and_archives_without_making_them(library):
    mp3_book(library / "Author" / "Changed", tracks=1, TALB="Changed")
    mp3_book(library / "Author" / "Gone", tracks=1, TALB="Gone")
    scan()
    mp3_book(library / "Author" / "Changed", tracks=1, TALB="Changed Again")
    (library / "Author" / "Gone" / "01.mp3").unlink()

    run = scan(dry_run=True)

    assert (run.summary["updated"], run.summary["archived"]) == (1, 1)
    assert set(Book.objects.values_list("title", "status")) == {("Changed", "active"), ("Gone", "active")}
    assert BookFile.objects.count() == 2


def test_a_scan_of_a_sub_folder_leaves_the_rest_of_the_library_alone(library):
    mp3_book(library / "A" / "One", tracks=1, TALB="One")
    mp3_book(library / "B" / "Two", tracks=1, TALB="Two")
    scan()
    (library / "A" / "One" / "01.mp3").unlink()
    mp3_book(library / "B" / "Three", tracks=1, TALB="Three")

    run = scan(path=str(library / "B"))

    assert (run.summary["created"], run.summary["archived"], run.summary["unchanged"]) == (1, 0, 1)
    assert book("One").status == BookStatus.ACTIVE


def test_an_empty_root_where_books_were_known_archives_nothing(library):
    mp3_book(library / "Author" / "Title", tracks=1, TALB="Title")
    scan()
    for track in (library / "Author" / "Title").iterdir():
        track.unlink()

    run = job_run_now(name="library_scan", trigger=Trigger.COMMAND)

    assert run.status == RunStatus.FAILED
    assert "is the library mounted?" in run.error
    assert book("Title").status == BookStatus.ACTIVE


@pytest.mark.parametrize("value", ["", "/nonexistent/library"])
def test_the_job_fails_without_a_usable_library_root(settings, value):
    settings.LIBRARY_ROOT = value

    run = job_run_now(name="library_scan", trigger=Trigger.COMMAND)

    assert run.status == RunStatus.FAILED
    assert "LIBRARY_ROOT" in run.error


def test_a_path_outside_the_root_fails_the_run(library, tmp_path):
    run = job_run_now(name="library_scan", trigger=Trigger.COMMAND, params={"path": str(tmp_path)})

    assert run.status == RunStatus.FAILED
    assert "outside the library root" in run.error


def test_the_job_is_declared_daily_at_two_and_needs_a_library_root(library, settings):
    from scheduler.schedules import get_job

    job = get_job("library_scan")
    assert job.default_schedule == "0 2 * * *"
    assert job.condition() is True
    settings.LIBRARY_ROOT = ""
    assert job.condition() is False


def test_series_positions_reach_existing_series_of_the_same_author(library):
    author_series = book_create(
        fields={"title": "Elantris"}, authors=["Brandon Sanderson"], series=[series_ref("Cosmere", "1")]
    ).series.get()
    write_mp4(library / "Brandon Sanderson" / "Cosmere" / "02 - Warbreaker.m4b", tags={"©alb": "Warbreaker"})

    scan()

    assert book("Warbreaker").series.get() == author_series
    assert Series.objects.count() == 1


def test_a_cancelled_run_stops_before_reading(library):
    from scheduler.context import JobCancelled

    mp3_book(library / "Author" / "Title", tracks=1, TALB="Title")
    job = _context()
    JobRun.objects.filter(pk=job.run.pk).update(cancel_requested=True)

    with pytest.raises(JobCancelled):
        scan_service.library_scan_run(job=job)

    assert not Book.objects.exists()


def test_the_summary_lists_the_first_problems_and_counts_the_rest(library, monkeypatch):
    monkeypatch.setattr(scan_service, "MAX_REPORTED_PROBLEMS", 2)
    for number in range(5):
        write_corrupt(library / "Broken" / f"Book {number}" / "01.mp3")

    run = scan()

    assert (run.summary["errors"], len(run.summary["problems"]), run.summary["problems_not_listed"]) == (5, 2, 3)


def test_a_reader_that_breaks_on_odd_tags_costs_one_file_not_the_run(library, monkeypatch):
    mp3_book(library / "Author" / "Odd", tracks=1, TALB="Odd")
    mp3_book(library / "Author" / "Fine", tracks=1, TALB="Fine")
    real = scan_service.read_audio

    def fragile(path, ext):
        if "/Odd/" in path:
            raise KeyError("unexpected frame")
        return real(path, ext)

    monkeypatch.setattr(scan_service, "read_audio", fragile)
    run = scan()

    assert list(Book.objects.values_list("title", flat=True)) == ["Fine"]
    assert [(p["kind"], p["message"]) for p in run.summary["problems"]] == [
        ("unreadable_audio", "KeyError: 'unexpected frame'; skipped.")
    ]
