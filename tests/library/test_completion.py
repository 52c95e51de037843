"""Owned/missing counts and completion of series and authors."""

from decimal import Decimal

import pytest

from library.choices import BookStatus, CompletionStatus
from library.services.books import book_create, book_set_status, series_ref
from library.services.completion import (
    author_recalculate,
    completion_status_for,
    covered_positions,
    series_recalculate,
)
from tests.factories import AuthorFactory, BookFactory, SeriesEntryFactory, SeriesFactory

pytestmark = pytest.mark.django_db


def _book_in(series, label, status=BookStatus.ACTIVE):
    return book_create(fields={"title": f"Book {label}", "status": status}, series=[series_ref(series, label)])


@pytest.mark.parametrize(
    ("percentage", "expected"),
    [
        (None, CompletionStatus.UNKNOWN),
        (Decimal("100"), CompletionStatus.COMPLETE),
        (Decimal("50"), CompletionStatus.PARTIAL),
        (Decimal("49.99"), CompletionStatus.INCOMPLETE),
        (Decimal("0"), CompletionStatus.INCOMPLETE),
    ],
)
def test_it_derives_the_status_from_the_percentage(percentage, expected):
    assert completion_status_for(percentage) == expected


def test_it_counts_an_omnibus_as_every_position_it_covers():
    whole, fractional = covered_positions([(Decimal("1"), None), (Decimal("3"), Decimal("5")), (Decimal("2.5"), None)])
    assert whole == {1, 3, 4, 5}
    assert fractional == {Decimal("2.5")}


def test_it_ignores_entries_without_a_position():
    assert covered_positions([(None, None)]) == (set(), set())


def test_a_series_with_omnibus_and_novella_is_partial():
    series = SeriesFactory(total_known=5)
    for label in ("1", "2", "2.5", "3-4"):
        _book_in(series, label)
    series = series_recalculate(series=series)
    assert series.books_owned == 4
    assert series.books_missing == 1
    assert series.completion_percentage == Decimal("80.00")
    assert series.completion_status == CompletionStatus.PARTIAL


def test_archived_books_do_not_count_as_owned():
    series = SeriesFactory(total_known=2)
    _book_in(series, "1")
    archived = _book_in(series, "2")
    book_set_status(books=[archived], status=BookStatus.ARCHIVED)
    series.refresh_from_db()
    assert series.books_owned == 1
    assert series.books_missing == 1
    assert series.completion_percentage == Decimal("50.00")


def test_a_series_without_a_known_total_is_unknown():
    series = SeriesFactory(total_known=None)
    _book_in(series, "1")
    series = series_recalculate(series=series)
    assert series.books_owned == 1
    assert series.books_missing == 0
    assert series.completion_percentage is None
    assert series.completion_status == CompletionStatus.UNKNOWN


def test_positions_beyond_the_total_do_not_push_completion_past_100():
    series = SeriesFactory(total_known=2)
    for label in ("1", "2", "3"):
        _book_in(series, label)
    series = series_recalculate(series=series)
    assert series.books_missing == 0
    assert series.completion_percentage == Decimal("100.00")
    assert series.completion_status == CompletionStatus.COMPLETE


def test_duplicate_copies_of_a_position_count_once_toward_completion():
    series = SeriesFactory(total_known=4)
    SeriesEntryFactory(series=series, position=Decimal("1"), position_label="1")
    SeriesEntryFactory(series=series, position=Decimal("1"), position_label="1")
    series = series_recalculate(series=series)
    assert series.books_owned == 2
    assert series.books_missing == 3
    assert series.completion_percentage == Decimal("25.00")


def test_an_author_counts_active_books_against_the_known_total():
    author = AuthorFactory(books_known=4)
    BookFactory.create_batch(3, authors=[author])
    BookFactory(authors=[author], status=BookStatus.ARCHIVED)
    author = author_recalculate(author=author)
    assert author.books_owned == 3
    assert author.books_missing == 1
    assert author.completion_percentage == Decimal("75.00")
    assert author.completion_status == CompletionStatus.PARTIAL


def test_an_author_owning_more_than_known_is_complete():
    author = AuthorFactory(books_known=1)
    BookFactory.create_batch(2, authors=[author])
    author = author_recalculate(author=author)
    assert author.books_missing == 0
    assert author.completion_status == CompletionStatus.COMPLETE


def test_an_author_without_a_known_total_is_unknown():
    author = AuthorFactory()
    BookFactory(authors=[author])
    author = author_recalculate(author=author)
    assert author.books_owned == 1
    assert author.completion_percentage is None
    assert author.completion_status == CompletionStatus.UNKNOWN
