"""Import of completed downloads (SPEC §8.6): placement, sanitising, idempotence, failures."""

from __future__ import annotations

import errno
import os
import shutil
from decimal import Decimal

import pytest
from django.utils import timezone

from downloads import importing
from downloads.importing import ImportFailed, import_completed, map_client_path, position_label
from library.models import Book, BookFile
from library.models_gaps import GapStatus, MissingBook
from library.positions import parse_position
from scheduler.choices import RunStatus, Trigger
from scheduler.runner import job_run_now
from tests.factories import SeriesFactory
from tests.library.audio import write_mp3, write_mp4

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(tmp_path, settings):
    root = tmp_path / "library"
    root.mkdir()
    settings.LIBRARY_ROOT = str(root)
    settings.DOWNLOAD_PATH_MAP = {}
    settings.LIBRARY_TEMPLATE = "{author}/{series}/{position} - {title}"
    settings.ABS_URL = ""
    settings.ABS_API_KEY = ""
    return root


def _tagged_download(folder, *, title="The Hero of Ages", series="Mistborn", part="3"):
    tags = {"TALB": title, "TPE1": "Brandon Sanderson", "TXXX:NARRATOR": "Michael Kramer"}
    if series:
        tags |= {"TXXX:SERIES": series, "TXXX:SERIES-PART": part}
    for track in (1, 2):
        write_mp3(folder / f"{track:02d}.mp3", tags={**tags, "TIT2": f"Chapter {track}"})
    return folder


def test_it_hardlinks_a_tagged_folder_into_author_series_position_title(tmp_path, library):
    source = _tagged_download(tmp_path / "downloads" / "Sanderson - Hero of Ages [MP3]")

    result = import_completed(content_path=str(source))

    target = library / "Brandon Sanderson" / "Mistborn" / "03 - The Hero of Ages"
    assert result.created and result.linked == 2 and result.copied == 0 and result.reused == 0
    assert result.files == [str(target / "01.mp3"), str(target / "02.mp3")]
    for name in ("01.mp3", "02.mp3"):
        assert os.stat(target / name).st_ino == os.stat(source / name).st_ino
        assert (source / name).is_file()  # the torrent keeps seeding
    book = result.book
    assert book.title == "The Hero of Ages" and book.format == "mp3" and book.bitrate_kbps == 128
    assert [a.name for a in book.authors.all()] == ["Brandon Sanderson"]
    assert [n.name for n in book.narrators.all()] == ["Michael Kramer"]
    entry = book.series_entries.get()
    assert entry.series.name == "Mistborn" and entry.position == Decimal("3")
    files = list(book.files.order_by("path"))
    assert [f.path for f in files] == result.files
    assert files[0].codec == "mp3" and files[0].size_bytes == (source / "01.mp3").stat().st_size
    assert files[0].duration_seconds and files[0].mtime == (source / "01.mp3").stat().st_mtime


def test_it_imports_a_single_m4b(tmp_path, library):
    source = write_mp4(
        tmp_path / "downloads" / "book.m4b",
        tags={"©nam": "Leviathan Wakes", "©ART": "James S. A. Corey", "©mvn": "The Expanse", "©mvi": 1},
        seconds=1800,
    )

    result = import_completed(content_path=str(source))

    target = library / "James S. A. Corey" / "The Expanse" / "01 - Leviathan Wakes" / "book.m4b"
    assert result.files == [str(target)] and target.is_file() and source.is_file()
    assert result.book.format == "m4b" and result.book.duration_seconds == 1800
    assert result.book.files.get().codec == "aac"


def test_a_book_without_series_goes_to_author_title(tmp_path, library):
    source = _tagged_download(tmp_path / "dl" / "x", title="Warbreaker", series="")

    result = import_completed(content_path=str(source))

    assert result.files[0] == str(library / "Brandon Sanderson" / "Warbreaker" / "01.mp3")
    assert not result.book.series_entries.exists()


def test_client_paths_are_mapped_longest_prefix_first(tmp_path, library, settings):
    local = tmp_path / "local"
    source = _tagged_download(local / "done" / "Hero")
    settings.DOWNLOAD_PATH_MAP = {"/downloads": str(tmp_path / "wrong"), "/downloads/done": str(local / "done")}

    assert map_client_path("/downloads/done/Hero") == source
    assert map_client_path("/downloads/doneX/Hero") == tmp_path / "wrong" / "doneX" / "Hero"
    assert map_client_path("/elsewhere/Hero").as_posix() == "/elsewhere/Hero"
    result = import_completed(content_path="/downloads/done/Hero")
    assert result.linked == 2


def test_a_hostile_title_is_sanitised_and_stays_under_the_root(tmp_path, library):
    source = _tagged_download(tmp_path / "dl" / "evil", title="../../etc/passwd\\x\x07", series="")

    result = import_completed(content_path=str(source))

    root = os.path.realpath(library)
    for path in result.files:
        assert os.path.realpath(path).startswith(root + os.sep)
    folder = os.path.relpath(os.path.dirname(result.files[0]), library)
    assert folder.split(os.sep) == ["Brandon Sanderson", "etc-passwd-x"]
    assert not (tmp_path / "etc").exists()


def test_a_template_that_escapes_the_root_is_refused(tmp_path, library, settings):
    source = _tagged_download(tmp_path / "dl" / "book")
    settings.LIBRARY_TEMPLATE = "../{author}/{title}"
    # ".." segments are sanitised away, never followed.
    result = import_completed(content_path=str(source))
    assert result.files[0].startswith(str(library) + os.sep)

    (library / "Brandon Sanderson").mkdir(exist_ok=True)
    os.symlink(tmp_path / "dl", library / "escape")
    settings.LIBRARY_TEMPLATE = "escape/{title}"
    with pytest.raises(ImportFailed, match="outside LIBRARY_ROOT"):
        import_completed(content_path=str(source))


def test_re_import_is_idempotent(tmp_path, library):
    source = _tagged_download(tmp_path / "dl" / "Hero")
    first = import_completed(content_path=str(source))

    again = import_completed(content_path=str(source))

    assert again.book.id == first.book.id and not again.created
    assert again.reused == 2 and again.linked == again.copied == 0
    assert Book.objects.count() == 1 and BookFile.objects.count() == 2
    assert again.book.series_entries.count() == 1


def test_an_existing_book_is_matched_by_title_and_author(tmp_path, library):
    source = _tagged_download(tmp_path / "dl" / "Hero")
    existing = import_completed(content_path=str(_tagged_download(tmp_path / "other" / "Hero"))).book
    BookFile.objects.all().delete()
    shutil.rmtree(library / "Brandon Sanderson")

    result = import_completed(content_path=str(source))

    assert result.book.id == existing.id and not result.created and result.linked == 2


def test_the_gap_is_completed_and_resolved(tmp_path, library):
    series = SeriesFactory(name="Stormlight Archive")
    gap = MissingBook.objects.create(
        title="Oathbringer",
        title_key="oathbringer",
        reason="series_gap",
        series=series,
        position=Decimal("3"),
        position_label="3",
        author_names=["Brandon Sanderson"],
        status=GapStatus.DOWNLOADING,
        last_seen=timezone.now(),
    )
    source = tmp_path / "dl" / "untagged"
    write_mp3(source / "01.mp3")
    write_mp3(source / "02.mp3")

    result = import_completed(content_path=str(source), gap=gap)

    gap.refresh_from_db()
    assert gap.status == GapStatus.COMPLETED and gap.resolved_book == result.book and gap.resolved_at
    assert result.files[0] == str(library / "Brandon Sanderson" / "Stormlight Archive" / "03 - Oathbringer" / "01.mp3")
    assert result.book.title == "Oathbringer"


def test_it_copies_when_hardlinks_are_impossible(tmp_path, library, monkeypatch):
    source = _tagged_download(tmp_path / "dl" / "Hero")

    def no_link(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    result = import_completed(content_path=str(source))

    assert result.copied == 2 and result.linked == 0
    target = library / "Brandon Sanderson" / "Mistborn" / "03 - The Hero of Ages"
    assert os.stat(target / "01.mp3").st_ino != os.stat(source / "01.mp3").st_ino
    assert (target / "01.mp3").read_bytes() == (source / "01.mp3").read_bytes()
    assert sorted(os.listdir(target)) == ["01.mp3", "02.mp3"]  # no hidden partial files left


@pytest.mark.parametrize("failing", ["link", "copy"])
def test_a_write_error_leaves_no_partial_files(tmp_path, library, monkeypatch, failing):
    source = _tagged_download(tmp_path / "dl" / "Hero")
    before = {p.name: p.read_bytes() for p in source.iterdir()}
    real_link, real_copy = os.link, shutil.copy2
    calls = []

    def link(src, dst):
        calls.append(dst)
        if failing == "copy":
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", dst)
        return real_link(src, dst)

    def copy(src, dst, **kwargs):
        if len(calls) == 2:
            with open(dst, "wb") as handle:
                handle.write(b"half")
            raise OSError(errno.ENOSPC, "No space left on device", dst)
        return real_copy(src, dst, **kwargs)

    monkeypatch.setattr(os, "link", link)
    monkeypatch.setattr(shutil, "copy2", copy)
    with pytest.raises(ImportFailed, match="No space left on device") as caught:
        import_completed(content_path=str(source))

    assert "downloaded files are untouched" in str(caught.value.detail)
    assert list(library.iterdir()) == []  # files and the folders this call made are gone
    assert {p.name: p.read_bytes() for p in source.iterdir()} == before
    assert not Book.objects.exists()


def test_an_unset_library_root_is_a_clear_error(tmp_path, library, settings):
    source = _tagged_download(tmp_path / "dl" / "Hero")
    settings.LIBRARY_ROOT = ""

    with pytest.raises(ImportFailed, match="LIBRARY_ROOT is not set"):
        import_completed(content_path=str(source))


def test_missing_content_is_a_clear_error(tmp_path, library):
    with pytest.raises(ImportFailed, match="does not exist"):
        import_completed(content_path=str(tmp_path / "nothing"))


def test_audiobookshelf_is_asked_to_scan_when_configured(tmp_path, library, settings, monkeypatch):
    calls = []
    monkeypatch.setattr(importing, "abs_scan_after_import", lambda: calls.append(1) or {})
    import_completed(content_path=str(_tagged_download(tmp_path / "dl" / "a")))
    assert calls == []

    settings.ABS_URL, settings.ABS_API_KEY = "http://127.0.0.1:9", "key"
    import_completed(content_path=str(_tagged_download(tmp_path / "dl" / "b")))
    assert calls == [1]


@pytest.mark.parametrize(("label", "padded"), [("3", "03"), ("2.5", "02.5"), ("5-6", "05-06"), ("12", "12")])
def test_positions_are_padded_for_sorting(label, padded):
    assert position_label(parse_position(label)) == padded


def test_a_different_file_at_the_target_is_never_overwritten(tmp_path, library):
    source = _tagged_download(tmp_path / "dl" / "Hero")
    target = library / "Brandon Sanderson" / "Mistborn" / "03 - The Hero of Ages"
    target.mkdir(parents=True)
    (target / "02.mp3").write_bytes(b"someone else's file")

    with pytest.raises(ImportFailed, match="already exists"):
        import_completed(content_path=str(source))

    assert sorted(os.listdir(target)) == ["02.mp3"]  # 01.mp3, linked first, was taken back
    assert (target / "02.mp3").read_bytes() == b"someone else's file"


def test_a_library_scan_after_an_import_finds_nothing_to_change(tmp_path, library):
    result = import_completed(content_path=str(_tagged_download(tmp_path / "dl" / "Hero")))

    run = job_run_now(name="library_scan", trigger=Trigger.COMMAND, params={})
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.summary["unchanged"] == 1 and run.summary["created"] == 0
    assert list(Book.objects.values_list("id", flat=True)) == [result.book.id]
