"""Book selectors: missing fields, search matching, duplicate detection, stats."""

import pytest

from library.choices import COMPLETENESS_FIELDS
from library.models import Book
from library.selectors.books import book_list_queryset, book_matching, book_missing_fields, book_search, book_stats
from library.selectors.duplicates import book_duplicate_groups, normalise_title, titles_match
from tests.factories import AuthorFactory, BookFactory, NarratorFactory, SeriesEntryFactory, SeriesFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("The Hobbit (Unabridged)", "the hobbit"),
        ("The Hobbit [Abridged Edition]", "the hobbit"),
        ("Guards! Guards!", "guards guards"),
        ("  Éclair:  A Novel ", "eclair a novel"),
        ("snake_case_title", "snake case title"),
    ],
)
def test_titles_are_normalised_for_comparison(raw, clean):
    assert normalise_title(raw) == clean


def test_close_titles_match_but_different_numbers_do_not():
    assert titles_match("the way of kings", "the way of kings", 90)
    assert titles_match("harry potter and the philosophers stone", "harry potter and the philosopher s stone", 90)
    assert not titles_match("saga book 1", "saga book 2", 90)
    assert not titles_match("dune", "dune messiah", 90)
    assert not titles_match("", "", 90)


def test_title_groups_chain_and_respect_the_threshold(settings):
    author = AuthorFactory()
    ids = [BookFactory(title=title, authors=[author]).id for title in ["Colour of Magic", "Color of Magic", "Colours"]]

    assert [g.book_ids for g in book_duplicate_groups()] == [tuple(ids[:2])]
    assert book_duplicate_groups(threshold=100) == []
    settings.DUPLICATE_TITLE_THRESHOLD = 100
    assert book_duplicate_groups() == []


def test_only_the_first_author_counts_for_title_groups():
    first, second = AuthorFactory(), AuthorFactory()
    BookFactory(title="Shared", authors=[first, second])
    BookFactory(title="Shared", authors=[second, first])

    assert book_duplicate_groups() == []


def test_asin_groups_ignore_case():
    BookFactory(asin="B00ABCDEFG")
    BookFactory(asin="b00abcdefg")

    assert [(g.reason, g.key) for g in book_duplicate_groups()] == [("asin", "B00ABCDEFG")]


def test_missing_fields_agree_with_completeness():
    author, narrator = AuthorFactory(), NarratorFactory()
    books = [
        BookFactory(),
        BookFactory(authors=[author], narrators=[narrator], publisher="P", asin="B000000001"),
        BookFactory(published_year=1999, duration_seconds=1, description="d"),
    ]
    SeriesEntryFactory(book=books[1], position=None)
    SeriesEntryFactory(book=books[2], series=SeriesFactory(), position=2)
    for book in books:
        book.save()

    for book in book_list_queryset():
        missing = book_missing_fields(book)
        assert set(missing) <= set(COMPLETENESS_FIELDS)
        assert book.metadata_completeness == round(100 * (len(COMPLETENESS_FIELDS) - len(missing)) / 10)


def test_missing_fields_work_without_prefetching():
    book = BookFactory(authors=[AuthorFactory()])

    assert "author" not in book_missing_fields(Book.objects.get(pk=book.pk))
    assert "narrator" in book_missing_fields(Book.objects.get(pk=book.pk))


def test_matching_needs_every_word():
    BookFactory(title="Red Rising", authors=[AuthorFactory(name="Pierce Brown")])
    BookFactory(title="Red Storm")

    assert list(book_matching(Book.objects.all(), "red brown").values_list("title", flat=True)) == ["Red Rising"]
    assert book_matching(Book.objects.all(), "   ").count() == 2


def test_search_ranks_title_prefix_then_title_then_the_rest():
    BookFactory(title="Zeta about Mars")
    BookFactory(title="Mars", subtitle="")
    BookFactory(title="Alpha", subtitle="A Mars story")

    assert [b.title for b in book_search(text="mars")] == ["Mars", "Zeta about Mars", "Alpha"]


def test_stats_counts_every_status_even_when_empty():
    BookFactory(status="duplicate")

    stats = book_stats()

    assert stats["by_status"] == {"active": 0, "archived": 0, "duplicate": 1}
    assert stats["active"] == 0
    assert stats["without_series"] == 0
