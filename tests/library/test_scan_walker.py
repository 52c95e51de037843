"""Walking the library: which files make which book, and nothing outside LIBRARY_ROOT."""

import os

import pytest

from library.scanning.walker import PathOutsideRoot, resolve_inside, walk
from tests.library.audio import write_mp3, write_mp4


def _books(result) -> dict[str, list[str]]:
    return {group.key: [f.rel for f in group.files] for group in result.groups}


def test_a_folder_of_mp3s_is_one_book_in_natural_order(tmp_path):
    for track in (10, 2, 1):
        write_mp3(tmp_path / "Author" / "Title" / f"{track} - part.mp3")

    result = walk(str(tmp_path))

    assert _books(result) == {"Author/Title/": [f"Author/Title/{n} - part.mp3" for n in (1, 2, 10)]}
    assert result.groups[0].parts == ("Author", "Title")


def test_each_m4b_is_a_book_and_parts_of_one_m4b_book_stay_together(tmp_path):
    folder = tmp_path / "Author" / "Series"
    write_mp4(folder / "01 - First.m4b")
    write_mp4(folder / "02 - Second - Part 1.m4b")
    write_mp4(folder / "02 - Second - Part 2.m4b")

    books = _books(walk(str(tmp_path)))

    assert books == {
        "Author/Series/01 - First.m4b": ["Author/Series/01 - First.m4b"],
        "Author/Series/02 - Second.m4b": [
            "Author/Series/02 - Second - Part 1.m4b",
            "Author/Series/02 - Second - Part 2.m4b",
        ],
    }


def test_disc_folders_belong_to_their_book(tmp_path):
    write_mp3(tmp_path / "Author" / "Title" / "CD1" / "01.mp3")
    write_mp3(tmp_path / "Author" / "Title" / "CD2" / "01.mp3")

    result = walk(str(tmp_path))

    assert _books(result) == {"Author/Title/": ["Author/Title/CD1/01.mp3", "Author/Title/CD2/01.mp3"]}
    assert result.groups[0].parts == ("Author", "Title")


def test_loose_files_in_the_root_are_one_book_each(tmp_path):
    write_mp3(tmp_path / "One.mp3")
    write_mp3(tmp_path / "Two.mp3")

    assert sorted(_books(walk(str(tmp_path)))) == ["One.mp3", "Two.mp3"]


def test_other_files_hidden_files_and_nas_folders_are_ignored(tmp_path):
    write_mp3(tmp_path / "Author" / "Title" / "01.mp3")
    (tmp_path / "Author" / "Title" / "cover.jpg").write_bytes(b"jpeg")
    write_mp3(tmp_path / "Author" / "Title" / "._01.mp3")
    write_mp3(tmp_path / "@eaDir" / "01.mp3")

    assert _books(walk(str(tmp_path))) == {"Author/Title/": ["Author/Title/01.mp3"]}


def test_size_and_mtime_come_from_stat(tmp_path):
    path = write_mp3(tmp_path / "A" / "B" / "01.mp3")
    os.utime(path, (1_700_000_000, 1_700_000_000.5))

    [item] = walk(str(tmp_path)).groups[0].files

    assert (item.path, item.size, item.mtime, item.ext) == (str(path), path.stat().st_size, 1_700_000_000.5, "mp3")


def test_a_symlink_out_of_the_root_is_refused_and_reported(tmp_path):
    root, outside = tmp_path / "library", tmp_path / "elsewhere"
    write_mp3(outside / "Secret" / "01.mp3")
    write_mp3(root / "Author" / "Title" / "01.mp3")
    (root / "Author" / "Escape").symlink_to(outside / "Secret")
    (root / "Author" / "Title" / "02.mp3").symlink_to(outside / "Secret" / "01.mp3")

    result = walk(str(root))

    assert _books(result) == {"Author/Title/": ["Author/Title/01.mp3"]}
    assert sorted((p.path, p.kind) for p in result.problems) == [
        ("Author/Escape", "outside_root"),
        ("Author/Title/02.mp3", "outside_root"),
    ]


def test_a_symlink_inside_the_root_is_followed_once(tmp_path):
    write_mp3(tmp_path / "Author" / "Title" / "01.mp3")
    (tmp_path / "Shortcut").symlink_to(tmp_path / "Author")
    (tmp_path / "Author" / "Loop").symlink_to(tmp_path / "Author")

    result = walk(str(tmp_path))

    assert [f.rel for group in result.groups for f in group.files] in (
        ["Author/Title/01.mp3"],
        ["Shortcut/Title/01.mp3"],
    )
    assert not result.problems


def test_names_that_are_not_utf8_are_reported(tmp_path):
    write_mp3(tmp_path / "Author" / "Title" / "01.mp3")
    bad = os.path.join(os.fsencode(tmp_path / "Author" / "Title"), b"02-caf\xe9.mp3")
    with open(bad, "wb") as handle:
        handle.write(b"x")

    result = walk(str(tmp_path))

    assert _books(result) == {"Author/Title/": ["Author/Title/01.mp3"]}
    [problem] = result.problems
    assert (problem.path, problem.kind) == ("Author/Title/02-caf\ufffd.mp3", "bad_name")


def test_an_unreadable_folder_is_reported_and_remembered(tmp_path, monkeypatch):
    write_mp3(tmp_path / "Locked" / "Title" / "01.mp3")
    write_mp3(tmp_path / "Open" / "Title" / "01.mp3")
    real_scandir = os.scandir

    def scandir(path):
        if str(path) == str(tmp_path / "Locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = walk(str(tmp_path))

    assert _books(result) == {"Open/Title/": ["Open/Title/01.mp3"]}
    assert result.unlisted == [str(tmp_path / "Locked")]
    assert [(p.path, p.kind) for p in result.problems] == [("Locked", "unreadable")]


def test_a_scan_can_start_in_a_sub_folder(tmp_path):
    write_mp3(tmp_path / "A" / "One" / "01.mp3")
    write_mp3(tmp_path / "B" / "Two" / "01.mp3")

    result = walk(str(tmp_path), str(tmp_path / "B"))

    assert _books(result) == {"B/Two/": ["B/Two/01.mp3"]}
    assert result.groups[0].parts == ("B", "Two")


def test_starting_in_a_disc_folder_scans_the_whole_book(tmp_path):
    write_mp3(tmp_path / "Author" / "Title" / "Disc 1" / "01.mp3")
    write_mp3(tmp_path / "Author" / "Title" / "Disc 2" / "01.mp3")

    result = walk(str(tmp_path), str(tmp_path / "Author" / "Title" / "Disc 2"))

    assert len(result.groups[0].files) == 2


def test_resolve_inside_accepts_paths_under_the_root_and_refuses_the_rest(tmp_path):
    root = tmp_path / "library"
    (root / "Author").mkdir(parents=True)
    (root / "out").symlink_to(tmp_path)

    assert resolve_inside(str(root), "Author") == str(root / "Author")
    assert resolve_inside(str(root), str(root / "Author" / "..")) == str(root)
    for bad in ("..", str(tmp_path), "Author/../../etc", "out", "/etc"):
        with pytest.raises(PathOutsideRoot):
            resolve_inside(str(root), bad)


def test_a_fifo_named_like_audio_is_not_read(tmp_path):
    write_mp3(tmp_path / "Author" / "Title" / "01.mp3")
    os.mkfifo(tmp_path / "Author" / "Title" / "02.mp3")

    assert _books(walk(str(tmp_path))) == {"Author/Title/": ["Author/Title/01.mp3"]}
