"""Author gaps (SPEC §7.3): a monitored author's known books minus the owned ones."""

from datetime import UTC, datetime

import pytest

from library.models import Author, MissingBook
from library.services.books import book_create, series_ref
from library.services.gaps_rules import TitleIndex, TitleKey, isbn13, language_code
from scheduler.choices import RunStatus, Trigger
from scheduler.runner import job_run_now
from tests.factories import AuthorFactory, SeriesFactory
from tests.library.gaps_fake import FUTURE, PAST, install, member, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_registry(monkeypatch):
    return install(monkeypatch)


LONG_AGO = datetime(2001, 1, 1, tzinfo=UTC)


def analyse(**params):
    run = job_run_now(name="gap_analysis", trigger=Trigger.COMMAND, params=params)
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


def author_gaps(author) -> dict[str, MissingBook]:
    return {gap.title: gap for gap in MissingBook.objects.filter(primary_author=author, reason="author_gap")}


@pytest.fixture
def sanderson():
    return AuthorFactory(name="Brandon Sanderson", monitored=True)


def own(title, author, **fields):
    return book_create(fields={"title": title, **fields}, authors=[author])


def test_owned_books_match_by_isbn_or_fuzzy_title_and_the_rest_are_gaps(fake_registry, sanderson):
    own("Kings Way, the Audio Edition", sanderson, isbn="9780765326355")
    own("Mistborn (Unabridged)", sanderson)
    own("Warbreaker", sanderson, subtitle="A Novel of Nalthis")
    fake_registry.add_author(
        "Brandon Sanderson",
        [
            record("The Way of Kings", isbn="0-7653-2635-3"),  # ISBN-10 of the owned ISBN-13
            record("Mistborn: The Final Empire"),  # title after the colon
            record("Warbreaker"),  # owned with a subtitle
            record("Elantris", isbn="9780765350374", published_date=PAST, language="en"),
            record("The Emperor's Soul"),
        ],
    )

    run = analyse()

    gaps = author_gaps(sanderson)
    assert sorted(gaps) == ["Elantris", "The Emperor's Soul"]
    elantris = gaps["Elantris"]
    assert (elantris.priority, elantris.status, elantris.isbn) == (2, "identified", "9780765350374")
    assert elantris.title_key == "elantris"
    assert elantris.series is None
    assert list(elantris.authors.all()) == [sanderson]
    assert run.summary["authors_checked"] == 1
    assert run.summary["author_gaps"]["new"] == 2
    sanderson.refresh_from_db()
    assert sanderson.books_known == 5
    assert sanderson.books_missing == 2
    assert sanderson.last_checked is not None


def test_one_book_from_several_providers_is_one_gap(fake_registry, sanderson):
    fake_registry.add_author(
        "Brandon Sanderson",
        [
            record("Elantris", provider="openlibrary", identifiers={"openlibrary": "OL1W"}),
            record("Elantris (Unabridged)", provider="googlebooks", identifiers={"google": "g1"}),
            record("Elantris: Tenth Anniversary Author's Definitive Edition", provider="hardcover"),
        ],
    )

    analyse()

    gap = MissingBook.objects.get()
    assert gap.title == "Elantris"
    assert gap.sources == ["openlibrary", "googlebooks", "hardcover"]
    assert gap.identifiers == {"openlibrary": "OL1W", "google": "g1"}


def test_books_other_people_wrote_are_not_the_authors_gaps(fake_registry, sanderson):
    fake_registry.add_author(
        "Brandon Sanderson",
        [
            record("The Wheel of Time Companion", authors=["Harriet McDougal"]),
            record("A Memory of Light", authors=["Robert Jordan", "Sanderson, Brandon"]),
            record("Untitled Anthology", authors=[]),
        ],
    )

    analyse()

    assert sorted(author_gaps(sanderson)) == ["A Memory of Light", "Untitled Anthology"]


def test_books_that_are_series_gaps_are_left_to_the_series(fake_registry, sanderson):
    series = SeriesFactory(name="The Stormlight Archive", primary_author=sanderson)
    book_create(fields={"title": "The Way of Kings"}, authors=[sanderson], series=[series_ref(series, "1")])
    fake_registry.add_series("The Stormlight Archive", [member(1, "The Way of Kings"), member(3, "Oathbringer")])
    fake_registry.add_author(
        "Brandon Sanderson",
        [
            record("Oathbringer (The Stormlight Archive, Book 3)"),
            record("Words of Radiance", series_name="The Stormlight Archive", series_position="2"),
            record("Skyward"),
        ],
    )

    run = analyse()

    assert sorted(author_gaps(sanderson)) == ["Skyward"]
    series_gaps = MissingBook.objects.filter(reason="series_gap").order_by("position")
    assert [gap.title for gap in series_gaps] == ["The Stormlight Archive #2", "Oathbringer"]
    assert run.summary["skipped_as_series_gaps"] == 2


def test_an_owned_series_position_owns_the_book_whatever_its_title(fake_registry, sanderson):
    series = SeriesFactory(name="Mistborn", primary_author=sanderson)
    book_create(fields={"title": "Mistborn 1"}, authors=[sanderson], series=[series_ref(series, "1")])
    fake_registry.add_author(
        "Brandon Sanderson", [record("The Final Empire", series_name="Mistborn", series_position="1")]
    )

    analyse()

    assert author_gaps(sanderson) == {}


def test_owning_the_book_later_resolves_the_gap(fake_registry, sanderson):
    fake_registry.add_author("Brandon Sanderson", [record("Elantris"), record("Skyward")])
    analyse()

    elantris = own("Elantris (Unabridged)", sanderson)
    run = analyse()

    gaps = author_gaps(sanderson)
    assert (gaps["Elantris"].status, gaps["Elantris"].resolved_book) == ("completed", elantris)
    assert gaps["Skyward"].status == "identified"
    assert MissingBook.objects.count() == 2
    assert (run.summary["gaps_new"], run.summary["gaps_resolved"]) == (0, 1)
    sanderson.refresh_from_db()
    assert sanderson.books_missing == 1


def test_reanalysis_updates_in_place(fake_registry, sanderson):
    fake_registry.add_author("Brandon Sanderson", [record("Elantris")])
    analyse()
    fake_registry.add_author("Brandon Sanderson", [record("Elantris (Unabridged)", asin="B00ABCDEFG")])

    run = analyse(full=True)

    gap = MissingBook.objects.get()
    assert gap.asin == "B00ABCDEFG"
    assert run.summary["author_gaps"] == {"new": 0, "updated": 1, "resolved": 0, "reopened": 0}


def test_a_wishlist_item_is_not_duplicated_as_an_author_gap(fake_registry, sanderson):
    wish = MissingBook.objects.create(
        title="Elantris",
        title_key="elantris",
        primary_author=sanderson,
        reason="wishlist",
        status="wanted",
        last_seen=LONG_AGO,
    )
    fake_registry.add_author("Brandon Sanderson", [record("Elantris")])

    analyse()

    assert list(MissingBook.objects.all()) == [wish]
    wish.refresh_from_db()
    assert wish.status == "wanted"


def test_unpublished_books_wait_and_unmonitored_authors_are_not_asked(fake_registry, sanderson):
    AuthorFactory(name="Quiet Writer")
    fake_registry.add_author("Brandon Sanderson", [record("Future Book", published_date=FUTURE)])
    fake_registry.add_author("Quiet Writer", [record("Something", authors=["Quiet Writer"])])

    analyse()

    assert not MissingBook.objects.exists()
    assert ("author", "Quiet Writer") not in fake_registry.calls


def test_the_language_filter_applies_to_author_gaps(fake_registry, sanderson, settings):
    settings.GAPS_LANGUAGES = ["en"]
    fake_registry.add_author(
        "Brandon Sanderson", [record("Elantris", language="en"), record("Der Weg der Könige", language="de")]
    )

    analyse()

    assert sorted(author_gaps(sanderson)) == ["Elantris"]
    sanderson.refresh_from_db()
    assert sanderson.books_known == 1


def test_an_unchanged_author_is_skipped_until_due(fake_registry, sanderson):
    fake_registry.add_author("Brandon Sanderson", [record("Elantris")])
    analyse()

    run = analyse()
    assert (run.summary["authors_checked"], run.summary["authors_skipped"]) == (0, 1)

    own("Skyward", sanderson)
    assert analyse().summary["authors_checked"] == 1


def test_scope_authors_leaves_series_alone(fake_registry, sanderson):
    series = SeriesFactory(name="Saga", primary_author=sanderson)
    book_create(fields={"title": "Two"}, authors=[sanderson], series=[series_ref(series, "2")])
    fake_registry.add_author("Brandon Sanderson", [record("Elantris")])

    run = analyse(series_ids=[], author_ids=[sanderson.id])

    assert run.summary["series_checked"] == 0
    assert list(MissingBook.objects.values_list("reason", flat=True)) == ["author_gap"]


def test_unreachable_providers_still_resolve_owned_gaps(fake_registry, sanderson):
    fake_registry.add_author("Brandon Sanderson", [record("Elantris")])
    analyse()
    checked = Author.objects.get(pk=sanderson.pk).last_checked
    own("Elantris", sanderson)
    fake_registry.down = ["openlibrary"]

    run = analyse()

    assert MissingBook.objects.get().status == "completed"
    assert run.summary["authors_unanswered"] == 1
    assert Author.objects.get(pk=sanderson.pk).last_checked == checked


# --- the matching rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("owned", "known"),
    [
        ("The Way of Kings", "Way of Kings (Unabridged)"),
        ("Oathbringer", "Oathbringer: Book Three of the Stormlight Archive"),
        ("The Final Empire", "Mistborn: The Final Empire"),
        ("The Hero of Ages", "The Hero of Ages (Mistborn #3)"),
        ("Words of Radiance", "Words of Radiance, Book 2"),
        ("Élantris", "Elantris [Unabridged]"),
    ],
)
def test_titles_match_without_subtitles_editions_and_series_suffixes(owned, known):
    index = TitleIndex(90)
    index.add(TitleKey.of(owned), owned)
    assert index.find(TitleKey.of(known)) == owned


@pytest.mark.parametrize(
    ("owned", "known"),
    [
        ("Star Wars: Ahsoka", "Star Wars: Thrawn"),
        ("Elantris", "Warbreaker"),
        ("Skyward", "Starsight"),
        ("Saga Book 3", "Saga Book 4"),
        ("Dune", "Dune Messiah"),
    ],
)
def test_different_books_do_not_match(owned, known):
    index = TitleIndex(90)
    index.add(TitleKey.of(owned), owned)
    assert index.find(TitleKey.of(known)) is None


def test_isbns_and_languages_are_normalised():
    assert isbn13("0-7653-2635-3") == "9780765326355"
    assert isbn13("978-0-7653-2635-5") == "9780765326355"
    assert isbn13("not an isbn") == ""
    assert [language_code(value) for value in ("English", "eng", "en-US", "de", "")] == ["en", "en", "en", "de", ""]
