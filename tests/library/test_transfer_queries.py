"""The export reads the library in a constant number of queries (SPEC §12)."""

import pytest

from library.models import Author, Book, BookAuthor, Narrator, Series, SeriesEntry
from library.services.transfer import library_export_stream

pytestmark = pytest.mark.django_db


def _library(books: int) -> None:
    authors = Author.objects.bulk_create(
        Author(name=f"Author {i}", name_key=f"author {i}", sort_name=f"{i}, Author") for i in range(5)
    )
    narrators = Narrator.objects.bulk_create(Narrator(name=f"Voice {i}", name_key=f"voice {i}") for i in range(3))
    series = Series.objects.bulk_create(
        Series(name=f"Saga {i}", name_key=f"saga {i}", primary_author=authors[i]) for i in range(5)
    )
    for item in series:
        item.authors.add(item.primary_author)
    created = Book.objects.bulk_create(Book(title=f"Book {i}", isbn=f"{9780000000000 + i}") for i in range(books))
    BookAuthor.objects.bulk_create(BookAuthor(book=book, author=authors[i % 5]) for i, book in enumerate(created))
    Book.narrators.through.objects.bulk_create(
        Book.narrators.through(book_id=book.id, narrator_id=narrators[i % 3].id) for i, book in enumerate(created)
    )
    SeriesEntry.objects.bulk_create(
        SeriesEntry(book=book, series=series[i % 5], position=i // 5 + 1, position_label=str(i // 5 + 1))
        for i, book in enumerate(created)
    )


@pytest.mark.parametrize("books", [20, 200])
def test_the_json_export_queries_do_not_grow_with_the_library(books, django_assert_num_queries):
    _library(books)

    # authors; series with their primary author; series authors; then for the (one) chunk of
    # books: books, their author links with names, narrators, series entries with names.
    with django_assert_num_queries(7):
        text = "".join(library_export_stream(fmt="json"))

    assert text.count('"title"') == books


@pytest.mark.parametrize("books", [20, 200])
def test_the_csv_export_queries_do_not_grow_with_the_library(books, django_assert_num_queries):
    _library(books)

    # books, their author links with names, narrators, series entries with names
    with django_assert_num_queries(4):
        text = "".join(library_export_stream(fmt="csv"))

    assert text.count("\r\n") == books + 1


@pytest.mark.parametrize("books", [20, 200])
def test_the_export_endpoint_queries_do_not_grow_with_the_library(books, viewer_client, django_assert_num_queries):
    _library(books)

    # 0 throttle counter, then the 7 queries of the JSON export, run while the body streams.
    with django_assert_num_queries(8):
        response = viewer_client.get("/api/v1/library/export/")
        body = b"".join(response.streaming_content)

    assert response.status_code == 200
    assert body.count(b'"title"') == books
