"""The identity check and the field-by-field merge of provider records (SPEC §7.2)."""

from datetime import date

import pytest

from library.services.metadata_merge import (
    Target,
    candidate_identify,
    candidates_identify,
    candidates_merge,
    isbn_normalise,
    title_normalise,
)
from tests.library.metadata_fakes import record

THRESHOLD, TOLERANCE = 85, 0.05


def identify(rec, **target):
    return candidate_identify(rec, Target(**target), threshold=THRESHOLD, tolerance=TOLERANCE)


def test_an_identical_isbn_is_certain_even_with_another_title():
    candidate = identify(record(title="Stormlight 1"), isbn="978-0-7653-2635-5", title="Something Else")

    assert (candidate.accepted, candidate.confidence, candidate.reason) == (True, 1.0, "ISBN match")


def test_isbn_10_and_isbn_13_are_the_same_book():
    assert isbn_normalise("0765326353") == "9780765326355"
    assert identify(record(), isbn="0-7653-2635-3").confidence == 1.0
    assert identify(record(isbn="", isbns=["0765326353"]), isbn="9780765326355").accepted


def test_an_identical_asin_is_certain():
    candidate = identify(record(isbn=""), asin="b003zwfo7e", title="Nope")

    assert (candidate.accepted, candidate.confidence, candidate.reason) == (True, 1.0, "ASIN match")


def test_a_close_title_and_author_match_with_their_similarity_as_confidence():
    candidate = identify(record(isbn="", asin=""), title="The Way of Kings (Unabridged)", author="Brandon Sanderson")

    assert candidate.accepted
    assert candidate.confidence == 1.0
    assert candidate.reason == "title 100, author 100"


def test_a_subtitle_after_a_colon_does_not_hide_the_title():
    rec = record(title="Mistborn: The Final Empire", authors=["Brandon Sanderson"], isbn="", asin="")

    assert identify(rec, title="Mistborn", author="Brandon Sanderson").accepted
    assert identify(rec, title="The Final Empire", author="Sanderson, Brandon").accepted


def test_a_title_contained_in_a_longer_one_is_another_book():
    candidate = identify(record(title="Dune Messiah", authors=["Frank Herbert"]), title="Dune", author="Frank Herbert")

    assert not candidate.accepted
    assert "below 85" in candidate.reason


def test_another_author_is_another_book():
    candidate = identify(record(isbn="", asin=""), title="The Way of Kings", author="Ursula K. Le Guin")

    assert not candidate.accepted
    assert candidate.confidence < 0.85


def test_without_an_author_only_identifiers_can_match():
    assert not identify(record(isbn="", asin=""), title="The Way of Kings").accepted


@pytest.mark.parametrize(("ours", "accepted"), [(163_000, True), (156_000, True), (154_000, False), (172_000, False)])
def test_a_runtime_more_than_5_percent_off_is_another_recording(ours, accepted):
    candidate = identify(record(), title="The Way of Kings", author="Brandon Sanderson", duration_seconds=ours)

    assert candidate.accepted is accepted
    if not accepted:
        assert "runtime" in candidate.reason


def test_the_runtime_check_also_holds_for_an_identical_isbn():
    assert not identify(record(), isbn="9780765326355", duration_seconds=100_000).accepted


def test_an_unknown_runtime_is_no_reason_to_refuse():
    assert identify(record(duration_seconds=None), isbn="9780765326355", duration_seconds=100_000).accepted


def test_titles_are_normalised_for_comparison():
    assert title_normalise("The Way of Kings (Unabridged)") == "the way of kings"
    assert title_normalise("Oathbringer (The Stormlight Archive, Book 3)") == "oathbringer"
    assert title_normalise("Edgedancer - Unabridged") == "edgedancer"


def test_the_merge_takes_the_first_filled_value_in_provider_order():
    first = record("audnexus", publisher="", narrators=["Kate Reading, Michael Kramer"], description="")
    second = record("openlibrary", publisher="Tor", description="Storms.", narrators=["Someone Else"])
    refused = record("googlebooks", title="Elantris", authors=["Brandon Sanderson"], isbn="", asin="", language="de")
    candidates = candidates_identify(
        [refused, first, second],
        Target(isbn="9780765326355", title="The Way of Kings", author="Brandon Sanderson"),
        threshold=THRESHOLD,
        tolerance=TOLERANCE,
    )

    merged = candidates_merge(candidates)

    assert [c.accepted for c in candidates] == [False, True, True]
    assert merged["publisher"].value == "Tor" and merged["publisher"].source == "openlibrary"
    assert merged["description"].source == "openlibrary"
    assert merged["narrators"].value == ["Kate Reading", "Michael Kramer"]
    assert merged["narrators"].source == "audnexus"
    assert merged["authors"].value == ["Brandon Sanderson"]
    assert merged["series"].value == {"series": "The Stormlight Archive", "position": "1"}
    assert merged["language"].value == "en"
    assert merged["published_date"].value == date(2010, 8, 31)
    assert merged["isbn"].confidence == 1.0


def test_invalid_provider_values_are_left_out():
    rec = record(isbn="12345", asin="short", published_year=99, duration_seconds=-5, series_position="tbd")
    merged = candidates_merge(
        candidates_identify(
            [rec],
            Target(title="The Way of Kings", author="Brandon Sanderson"),
            threshold=THRESHOLD,
            tolerance=TOLERANCE,
        )
    )

    assert {"isbn", "asin", "duration_seconds"}.isdisjoint(merged)
    assert merged["published_year"].value == 2010  # from the publication date
    assert merged["series"].value == {"series": "The Stormlight Archive", "position": None}
