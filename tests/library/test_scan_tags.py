"""Tags of real (tiny) audio files map onto one AudioTags, whatever the tag family."""

import pytest

from library.scanning.tags import UnreadableAudio, read_audio
from tests.library.audio import write_corrupt, write_flac, write_mp3, write_mp4

ITUNES = "----:com.apple.iTunes:"


def test_mp4_atoms_and_freeform_tags(tmp_path):
    path = write_mp4(
        tmp_path / "book.m4b",
        seconds=5400,
        chapters=[(0, "Opening"), (600, "Middle"), (3000, "End")],
        tags={
            "©nam": "The Final Empire",
            "©alb": "Mistborn: The Final Empire",
            "©ART": "Brandon Sanderson",
            "aART": "Brandon Sanderson",
            "©wrt": "Michael Kramer",
            "©gen": "Fantasy",
            "©day": "2006-07-17",
            "©mvn": "Mistborn",
            "©mvi": 1,
            "©grp": "Cosmere",
            "ldes": "Ash falls from the sky.",
            f"{ITUNES}ASIN": "B002UZMLXM",
            f"{ITUNES}ISBN": "978-0-7653-1178-8",
            f"{ITUNES}PUBLISHER": "Macmillan Audio",
            f"{ITUNES}SUBTITLE": "Book One",
        },
    )

    tags = read_audio(str(path))

    assert tags.has_tags
    assert (tags.title, tags.album, tags.artist, tags.album_artist) == (
        "The Final Empire",
        "Mistborn: The Final Empire",
        "Brandon Sanderson",
        "Brandon Sanderson",
    )
    assert (tags.composer, tags.genre, tags.year) == ("Michael Kramer", "Fantasy", "2006-07-17")
    assert (tags.series, tags.series_part, tags.grouping) == ("Mistborn", "1", "Cosmere")
    assert (tags.asin, tags.isbn, tags.publisher, tags.subtitle) == (
        "B002UZMLXM",
        "978-0-7653-1178-8",
        "Macmillan Audio",
        "Book One",
    )
    assert tags.description == "Ash falls from the sky."
    assert (tags.duration, tags.bitrate_kbps, tags.codec, tags.chapters) == (5400.0, 64, "aac", 3)


def test_mp4_freeform_series_wins_over_movement_and_any_mean_is_read(tmp_path):
    path = write_mp4(
        tmp_path / "book.m4a",
        tags={
            "----:com.pilabor.tone:SERIES": "The Expanse",
            "----:com.pilabor.tone:SERIES-PART": "1-3",
            "----:com.apple.iTunes:NARRATOR": "Jefferson Mays",
            "©mvn": "Something Else",
        },
    )

    tags = read_audio(str(path))

    assert (tags.series, tags.series_part, tags.narrator) == ("The Expanse", "1-3", "Jefferson Mays")


def test_id3_frames_and_txxx(tmp_path):
    path = write_mp3(
        tmp_path / "01.mp3",
        tags={
            "TIT2": "Chapter 1",
            "TALB": "The Eye of the World",
            "TPE1": "Robert Jordan",
            "TPE2": "Robert Jordan",
            "TCOM": "Kate Reading, Michael Kramer",
            "TCON": "Fantasy",
            "TDRC": "2004",
            "TIT1": "The Wheel of Time, Book 1",
            "TPUB": "Macmillan Audio",
            "TXXX:SERIES": "The Wheel of Time",
            "TXXX:SERIES-PART": "1",
            "TXXX:ASIN": "B000BO4YUG",
            "TXXX:ISBN": "9781427202413",
            "COMM": "The Dragon Reborn returns.",
        },
    )

    tags = read_audio(str(path))

    assert (tags.title, tags.album, tags.artist, tags.composer) == (
        "Chapter 1",
        "The Eye of the World",
        "Robert Jordan",
        "Kate Reading, Michael Kramer",
    )
    assert (tags.series, tags.series_part, tags.grouping) == ("The Wheel of Time", "1", "The Wheel of Time, Book 1")
    assert (tags.asin, tags.isbn, tags.publisher, tags.year) == (
        "B000BO4YUG",
        "9781427202413",
        "Macmillan Audio",
        "2004",
    )
    assert tags.description == "The Dragon Reborn returns."
    assert (tags.codec, tags.bitrate_kbps) == ("mp3", 128)
    assert tags.duration == pytest.approx(0.2085, abs=0.01)


def test_id3_movement_frames_name_the_series(tmp_path):
    path = write_mp3(tmp_path / "01.mp3", tags={"MVNM": "Discworld", "MVIN": "3/41"}, v2_version=3)

    tags = read_audio(str(path))

    assert (tags.series, tags.series_part) == ("Discworld", "3/41")


def test_a_xing_header_gives_the_real_length(tmp_path):
    path = write_mp3(tmp_path / "long.mp3", seconds=3600)

    assert read_audio(str(path)).duration == pytest.approx(3600, abs=1)


def test_flac_vorbis_comments(tmp_path):
    path = write_flac(
        tmp_path / "book.flac",
        seconds=120,
        tags={
            "ALBUM": "Dune",
            "ARTIST": "Frank Herbert",
            "NARRATOR": "Scott Brick",
            "SERIES": "Dune",
            "SERIES-PART": "1",
            "DATE": "1965",
            "CHAPTER001": "00:00:00.000",
            "CHAPTER002": "00:01:00.000",
        },
    )

    tags = read_audio(str(path))

    assert (tags.album, tags.artist, tags.narrator, tags.series, tags.series_part, tags.year) == (
        "Dune",
        "Frank Herbert",
        "Scott Brick",
        "Dune",
        "1",
        "1965",
    )
    assert (tags.duration, tags.codec, tags.chapters) == (120.0, "flac", 2)


def test_a_file_without_tags_is_still_audio(tmp_path):
    tags = read_audio(str(write_mp3(tmp_path / "bare.mp3")))

    assert not tags.has_tags
    assert tags.title == "" and tags.duration > 0


def test_a_mislabelled_file_is_read_for_what_it_is(tmp_path):
    path = write_mp4(tmp_path / "book.m4b", tags={"©alb": "Really MP4"})
    renamed = path.rename(tmp_path / "book.mp3")

    assert read_audio(str(renamed)).album == "Really MP4"


@pytest.mark.parametrize(
    "content", [b"", b"this is not audio at all\n" * 40, b"ID3\x04\x00\x00\x00\x00\x7f\x7f" + b"\x00" * 20]
)
def test_corrupt_and_empty_files_raise_unreadable_audio(tmp_path, content):
    path = write_corrupt(tmp_path / "broken.mp3", content)

    with pytest.raises(UnreadableAudio):
        read_audio(str(path))


def test_a_missing_file_raises_unreadable_audio(tmp_path):
    with pytest.raises(UnreadableAudio, match="FileNotFoundError"):
        read_audio(str(tmp_path / "gone.m4b"))
