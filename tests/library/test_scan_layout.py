"""Folder and file names: what ``Author/Series/03 - Title`` and friends say about a book."""

import pytest

from library.scanning.layout import bracketed_series, guess_from_path, parse_name, split_people


@pytest.mark.parametrize(
    ("name", "title", "series", "position"),
    [
        ("03 - The Hero of Ages", "The Hero of Ages", "", "3"),
        ("3. Title", "Title", "", "3"),
        ("Book 4", "", "", "4"),
        ("Book 4 - Title", "Title", "", "4"),
        ("Vol. 2: Title", "Title", "", "2"),
        ("#3 - Title", "Title", "", "3"),
        ("Books 1-3 - Omnibus", "Omnibus", "", "1-3"),
        ("01-03 - Omnibus", "Omnibus", "", "1-3"),
        ("Mistborn #2.5", "", "Mistborn", "2.5"),
        ("Mistborn #2 - The Well of Ascension", "The Well of Ascension", "Mistborn", "2"),
        ("Stormlight Archive, Book 4 - Rhythm of War", "Rhythm of War", "Stormlight Archive", "4"),
        ("Harry Potter Book 1", "", "Harry Potter", "1"),
        ("The Expanse 1-3 - Omnibus", "Omnibus", "The Expanse", "1-3"),
        ("The Way of Kings (Stormlight Archive #1)", "The Way of Kings", "Stormlight Archive", "1"),
        ("Leviathan Wakes [The Expanse, Book 1]", "Leviathan Wakes", "The Expanse", "1"),
        ("The Book Thief", "The Book Thief", "", ""),
        ("Catch-22", "Catch-22", "", ""),
        ("1984", "1984", "", ""),
        ("Ocean 11", "Ocean 11", "", ""),
    ],
)
def test_it_reads_title_series_and_position_from_a_name(name, title, series, position):
    parsed = parse_name(name)

    assert (parsed.title, parsed.series, parsed.position) == (title, series, position)


def test_it_takes_the_year_narrator_and_abridgement_out_of_the_title():
    parsed = parse_name("(2010) The Way of Kings {Michael Kramer} [Unabridged]")

    assert (parsed.title, parsed.year, parsed.narrator, parsed.abridged) == (
        "The Way of Kings",
        2010,
        "Michael Kramer",
        False,
    )
    assert parse_name("Title (Abridged)").abridged is True
    assert parse_name("2001 - A Space Odyssey").year == 2001


def test_a_range_that_goes_downwards_is_no_position():
    assert parse_name("3-1 - Title").position == ""


def test_author_series_and_numbered_title_come_from_three_levels():
    guess = guess_from_path(["Sanderson, Brandon", "Mistborn", "03 - The Hero of Ages"])

    assert guess.authors == ("Brandon Sanderson",)
    assert (guess.series, guess.position, guess.title) == ("Mistborn", "3", "The Hero of Ages")


def test_author_and_title_come_from_two_levels():
    guess = guess_from_path(["Brandon Sanderson", "Elantris"])

    assert (guess.authors, guess.series, guess.position, guess.title) == (("Brandon Sanderson",), "", "", "Elantris")


def test_only_the_last_three_levels_count():
    guess = guess_from_path(["Audiobooks", "Fantasy", "Robin Hobb", "Farseer", "01 - Assassin's Apprentice"])

    assert (guess.authors, guess.series, guess.title) == (("Robin Hobb",), "Farseer", "Assassin's Apprentice")


def test_a_lone_name_may_say_author_dash_title():
    assert guess_from_path(["Brandon Sanderson - Elantris"]).authors == ("Brandon Sanderson",)
    lone = guess_from_path(["Mistborn #1 - The Final Empire"])
    assert (lone.authors, lone.series, lone.position, lone.title) == ((), "Mistborn", "1", "The Final Empire")


def test_a_bare_book_number_takes_its_title_from_the_series_folder():
    guess = guess_from_path(["Preston & Child", "Pendergast", "Book 4"])

    assert guess.authors == ("Preston", "Child")
    assert (guess.series, guess.position, guess.title) == ("Pendergast", "4", "Pendergast, Book 4")


def test_an_omnibus_folder_covers_a_range():
    guess = guess_from_path(["James S. A. Corey", "The Expanse", "01-03 - The Expanse Omnibus"])

    assert (guess.series, guess.position, guess.title) == ("The Expanse", "1-3", "The Expanse Omnibus")


def test_a_position_without_any_series_is_dropped():
    guess = guess_from_path(["Andy Weir", "Book 4 - Project Hail Mary"])

    assert (guess.series, guess.position, guess.title) == ("", "", "Project Hail Mary")


def test_unicode_names_survive():
    guess = guess_from_path(["Sjöwall, Maj", "Roseanna ⁄ Ett fall för Martin Beck"])

    assert guess.authors == ("Maj Sjöwall",)
    assert guess.title == "Roseanna ⁄ Ett fall för Martin Beck"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Kate Reading, Michael Kramer", ["Kate Reading", "Michael Kramer"]),
        ("Kate Reading & Michael Kramer", ["Kate Reading", "Michael Kramer"]),
        ("Kate Reading and Michael Kramer", ["Kate Reading", "Michael Kramer"]),
        ("Kramer, Michael; Reading, Kate", ["Michael Kramer", "Kate Reading"]),
        ("Kramer, Michael", ["Michael Kramer"]),
        ("Martin Luther King, Jr.", ["Martin Luther King, Jr."]),
        ("Stieg Larsson/Reg Keeland (Translator)", ["Stieg Larsson"]),
        ("Narrated by Jim Dale", ["Jim Dale"]),
        ("Jim Dale; jim  dale", ["Jim Dale"]),
        ("", []),
    ],
)
def test_people_strings_are_split(text, names):
    assert split_people(text) == names


def test_bracketed_series_needs_a_series_and_a_position():
    assert bracketed_series("Title (Series #3)") == ("Title", "Series", "3")
    assert bracketed_series("Title (Unabridged)") is None
    assert bracketed_series("Title (1)") is None
