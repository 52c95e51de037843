"""The books list's relation rows (written-out SQL) match what the ORM prefetches give."""

from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from rest_framework import serializers

from library.api.serializers.books import _datetime
from library.models import Book
from library.positions import format_position
from library.selectors.books import (
    AUTHOR_LINKS,
    BOOK_ROW_FIELDS,
    NARRATORS,
    SERIES_ENTRIES,
    BookRow,
    book_attach_relations,
    book_detail_queryset,
)
from tests.factories import AuthorFactory, BookFactory, NarratorFactory, SeriesEntryFactory, SeriesFactory

pytestmark = pytest.mark.django_db


def _rows(book) -> tuple:
    return (
        [(link.author_id, link.author_name) for link in getattr(book, AUTHOR_LINKS)],
        [(narrator.id, narrator.name) for narrator in getattr(book, NARRATORS)],
        [
            (e.series_id, e.series_name, e.position, e.position_end, e.position_label)
            for e in getattr(book, SERIES_ENTRIES)
        ],
    )


def test_attached_rows_equal_the_prefetched_ones_in_the_same_order():
    zed, amy = AuthorFactory(name="Zed Writer"), AuthorFactory(name="Amy Author")
    saga, cycle = SeriesFactory(name="Saga"), SeriesFactory(name="Cycle")
    book = BookFactory(authors=[zed, amy], narrators=[NarratorFactory(name="Yves"), NarratorFactory(name="Bea")])
    SeriesEntryFactory(book=book, series=saga, position=None, position_label="")
    SeriesEntryFactory(book=book, series=cycle, position=Decimal("2.5"), position_label="2.5")
    SeriesEntryFactory(
        book=book, series=SeriesFactory(name="Omnibus"), position=Decimal("1"), position_end=Decimal("3"),
        position_label="1-3",
    )  # fmt: skip
    lonely = BookFactory()

    attached = book_attach_relations(list(Book.objects.filter(pk__in=[book.pk, lonely.pk]).order_by("pk")))
    prefetched = list(book_detail_queryset().filter(pk__in=[book.pk, lonely.pk]).order_by("pk"))

    assert [_rows(b) for b in attached] == [_rows(b) for b in prefetched]
    authors, narrators, entries = _rows(attached[0])
    assert [name for _id, name in authors] == ["Zed Writer", "Amy Author"]  # the book's order, not the alphabet
    assert [name for _id, name in narrators] == ["Bea", "Yves"]
    assert [(name, position) for _id, name, position, _end, _label in entries] == [
        ("Omnibus", Decimal("1")),
        ("Cycle", Decimal("2.5")),
        ("Saga", None),
    ]
    assert _rows(attached[1]) == ([], [], [])


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 26, 23, 4, 5, 123456, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 6, 1, 12, 0, 0, 7, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_listed_timestamps_read_as_drf_would_write_them(value):
    expected = serializers.DateTimeField(default_timezone=UTC).to_representation(value)

    assert _datetime(value) == expected


@pytest.mark.parametrize("text", ["2.50", "3", "10.0", "0.125"])
def test_positions_print_as_decimal_strings_and_equal_values_alike(text):
    assert format_position(Decimal(text)) == format(Decimal(text).normalize(), "f")
    assert format_position(Decimal(text)) == format_position(Decimal(text + "0" if "." in text else text))


def test_listed_rows_have_a_book_column_for_each_value_and_the_relation_lists_by_name():
    names = {field.name for field in fields(BookRow)}

    assert {AUTHOR_LINKS, NARRATORS, SERIES_ENTRIES} <= names
    assert all(Book._meta.get_field(name).concrete for name in BOOK_ROW_FIELDS)
    assert set(BOOK_ROW_FIELDS) == names - {AUTHOR_LINKS, NARRATORS, SERIES_ENTRIES}
