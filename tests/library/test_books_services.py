"""Book services, series positions and name normalisation."""

from decimal import Decimal

import pytest

from library import naming
from library.choices import BookStatus
from library.models import Author, Book, Narrator, Series, SeriesEntry
from library.positions import format_position, parse_position
from library.services.books import (
    BulkAction,
    book_archive,
    book_bulk_apply,
    book_create,
    book_delete,
    book_lock_fields,
    book_set_status,
    book_unlock_fields,
    book_update,
    series_ref,
)
from tests.factories import AuthorFactory, BookFactory, SeriesFactory

# --- positions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "start", "end", "text"),
    [
        ("2", Decimal("2"), None, "2"),
        ("2.5", Decimal("2.5"), None, "2.5"),
        ("3-4", Decimal("3"), Decimal("4"), "3-4"),
        (" Book 7 ", Decimal("7"), None, "7"),
        ("#1.0", Decimal("1"), None, "1"),
        ("1 to 3", Decimal("1"), Decimal("3"), "1-3"),
        (4, Decimal("4"), None, "4"),
        (Decimal("4.50"), Decimal("4.5"), None, "4.5"),
        ("", None, None, ""),
        (None, None, None, ""),
    ],
)
def test_it_parses_position_labels(label, start, end, text):
    position = parse_position(label)

    assert (position.start, position.end, position.label) == (start, end, text)


@pytest.mark.parametrize("label", ["two", "3-", "4-3", "2-2", "1.2.3", "-1"])
def test_it_refuses_labels_that_are_not_positions(label):
    with pytest.raises(ValueError):
        parse_position(label)


@pytest.mark.parametrize(
    ("label", "owned"), [("1-3", {1, 2, 3}), ("2.5", set()), ("2", {2}), ("1.5-3", {2, 3}), ("", set())]
)
def test_an_omnibus_owns_every_whole_position_it_covers(label, owned):
    assert parse_position(label).covered_integers() == owned


@pytest.mark.parametrize(("value", "text"), [(Decimal("2.500"), "2.5"), (Decimal("3.000"), "3"), (None, None)])
def test_positions_are_written_as_plain_decimals(value, text):
    assert format_position(value) == text


# --- naming ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "display"),
    [
        ("Sanderson, Brandon", "Brandon Sanderson"),
        ("  Brandon   Sanderson ", "Brandon Sanderson"),
        ("King, Jr.", "King, Jr."),
        ("Plato", "Plato"),
    ],
)
def test_person_names_read_first_name_first(raw, display):
    assert naming.person_name(raw) == display


def test_name_keys_ignore_case_accents_and_dots():
    assert naming.name_key("J.R.R. Tolkien") == naming.name_key("j r r  tolkien")
    assert naming.name_key("Émile Zola") == naming.name_key("emile zola")
    assert naming.person_key("Zola, Émile") == naming.name_key("Emile Zola")


def test_sort_names_put_the_last_name_first():
    assert naming.sort_name("Brandon Sanderson") == "Sanderson, Brandon"
    assert naming.sort_name("Plato") == "Plato"


def test_narrator_strings_split_into_people():
    assert naming.split_narrators("Kate Reading & Michael Kramer; kate reading and Jim Dale") == [
        "Kate Reading",
        "Michael Kramer",
        "Jim Dale",
    ]


# --- services --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_book_create_makes_unknown_people_and_series():
    book = book_create(
        fields={"title": "Mistborn", "isbn": "9780765311788"},
        authors=["Sanderson, Brandon"],
        narrators=["Michael Kramer"],
        series=[series_ref("Mistborn Saga", "1")],
    )

    assert [link.author.name for link in book.book_authors.all()] == ["Brandon Sanderson"]
    assert list(book.narrators.values_list("name", flat=True)) == ["Michael Kramer"]
    entry = book.series_entries.get()
    assert (entry.series.name, entry.position, entry.position_label) == ("Mistborn Saga", Decimal("1"), "1")
    assert entry.series.primary_author.name == "Brandon Sanderson"
    assert set(entry.series.authors.values_list("name", flat=True)) == {"Brandon Sanderson"}
    assert book.metadata_sources["isbn"]["source"] == "manual"
    assert book.metadata_completeness == 60


@pytest.mark.django_db
def test_book_create_keeps_the_author_order_and_drops_repeats():
    second = AuthorFactory(name="Second Writer")

    book = book_create(fields={"title": "Duo"}, authors=["First Writer", second, "second writer"])

    assert [link.author.name for link in book.book_authors.order_by("position")] == ["First Writer", "Second Writer"]
    assert Author.objects.count() == 2


@pytest.mark.django_db
def test_book_create_refreshes_series_and_author_counts():
    saga = SeriesFactory(total_known=4)
    author = AuthorFactory()

    book_create(fields={"title": "Omnibus"}, authors=[author], series=[series_ref(saga, "1-3")])

    saga.refresh_from_db()
    author.refresh_from_db()
    assert saga.books_owned == 1
    assert saga.books_missing == 1
    assert author.books_owned == 1


@pytest.mark.django_db
def test_book_update_replaces_only_the_relations_it_is_given():
    book = book_create(fields={"title": "Old"}, authors=["A Writer"], narrators=["A Voice"])

    book_update(book=book, fields={"title": "New"}, narrators=[])

    book.refresh_from_db()
    assert book.title == "New"
    assert [link.author.name for link in book.book_authors.all()] == ["A Writer"]
    assert not book.narrators.exists()
    assert Narrator.objects.filter(name="A Voice").exists()


@pytest.mark.django_db
def test_book_update_rejects_unknown_fields():
    book = BookFactory()

    with pytest.raises(ValueError):
        book_update(book=book, fields={"metadata_completeness": 100})


@pytest.mark.django_db
def test_book_set_status_counts_changes_and_refreshes_series():
    saga = SeriesFactory()
    books = [book_create(fields={"title": f"B{n}"}, series=[series_ref(saga, str(n))]) for n in (1, 2)]

    assert book_set_status(books=books, status=BookStatus.ARCHIVED) == 2
    assert book_set_status(books=Book.objects.all(), status=BookStatus.ARCHIVED) == 0
    saga.refresh_from_db()
    assert saga.books_owned == 0
    with pytest.raises(ValueError):
        book_set_status(books=books, status="lost")


@pytest.mark.django_db
def test_book_archive_keeps_the_book():
    book = book_archive(book=BookFactory())

    assert book.status == BookStatus.ARCHIVED
    assert Book.objects.filter(pk=book.pk).exists()


@pytest.mark.django_db
def test_book_delete_removes_it_and_its_entries():
    saga = SeriesFactory()
    book = book_create(fields={"title": "Gone"}, series=[series_ref(saga, "1")])

    book_delete(book=book)

    assert not Book.objects.exists()
    assert not SeriesEntry.objects.exists()
    saga.refresh_from_db()
    assert saga.books_owned == 0


@pytest.mark.django_db
def test_locking_is_idempotent_and_checked():
    book = BookFactory()

    assert book_lock_fields(books=[book], fields=["title", "isbn"]) == 1
    assert book_lock_fields(books=[book], fields=["title"]) == 0
    assert book_unlock_fields(books=[book], fields=["isbn", "asin"]) == 1
    assert Book.objects.get().locked_fields == ["title"]
    with pytest.raises(ValueError):
        book_lock_fields(books=[book], fields=["status"])


@pytest.mark.django_db
def test_bulk_apply_runs_each_action():
    books = [BookFactory() for _ in range(3)]
    ids = [b.id for b in books]

    assert book_bulk_apply(book_ids=ids, action=BulkAction.ARCHIVE) == 3
    assert book_bulk_apply(book_ids=ids[:1], action=BulkAction.RESTORE) == 1
    assert book_bulk_apply(book_ids=ids, action=BulkAction.SET_STATUS, status="duplicate") == 3
    assert book_bulk_apply(book_ids=ids, action=BulkAction.LOCK, fields=["title"]) == 3
    assert book_bulk_apply(book_ids=ids, action=BulkAction.UNLOCK, fields=["title"]) == 3
    assert set(Book.objects.values_list("status", flat=True)) == {"duplicate"}
    with pytest.raises(ValueError):
        book_bulk_apply(book_ids=ids, action=BulkAction.SET_STATUS)
    with pytest.raises(ValueError):
        book_bulk_apply(book_ids=ids, action="explode")


@pytest.mark.django_db
def test_a_series_name_is_reused_for_the_same_author():
    author = AuthorFactory()
    first = book_create(fields={"title": "One"}, authors=[author], series=[series_ref("The Saga", "1")])
    second = book_create(fields={"title": "Two"}, authors=[author], series=[series_ref("the saga", "2")])

    assert first.series_entries.get().series_id == second.series_entries.get().series_id
    assert Series.objects.count() == 1
