"""Every list-like book endpoint issues the same number of queries for 3 rows as for 30 (SPEC §12).

Each request starts with one upsert of its throttle counter (the database counter cache).
"""

import pytest

from library.models import Book
from tests.factories import AuthorFactory, BookFactory, NarratorFactory, SeriesEntryFactory, SeriesFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/books/"


def make_books(count):
    """``count`` books, each with two authors, two narrators, two series entries and a shared ISBN pair."""
    authors = [AuthorFactory() for _ in range(3)]
    narrators = [NarratorFactory() for _ in range(3)]
    sagas = [SeriesFactory() for _ in range(3)]
    for n in range(count):
        book = BookFactory(
            title=f"Dragon {n:02d}",
            isbn=f"97800000{n // 2:05d}",
            authors=[authors[n % 3], authors[(n + 1) % 3]],
            narrators=[narrators[n % 3], narrators[(n + 1) % 3]],
        )
        SeriesEntryFactory(book=book, series=sagas[n % 3], position=n, position_label=str(n))
        SeriesEntryFactory(book=book, series=sagas[(n + 1) % 3], position=None)
    Book.objects.update(metadata_completeness=50)


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_costs_the_same_for_any_page_size(viewer_client, django_assert_num_queries, rows):
    make_books(rows)

    # 0 throttle counter, 1 COUNT of the page's queryset, 2 the page's ids, 3 their rows,
    # 4 their author links with authors, 5 their narrators, 6 their series entries with series.
    with django_assert_num_queries(7):
        body = viewer_client.get(URL, {"limit": 50}).json()

    assert len(body["results"]) == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_filtering_searching_and_ordering_add_no_queries(viewer_client, django_assert_num_queries, rows):
    make_books(rows)
    params = {"search": "dragon", "has_series": "true", "monitored": "false", "ordering": "-completeness,title"}

    # 0 throttle counter, 1 COUNT, 2 the page's ids (filters and search are EXISTS subqueries), 3 their rows,
    # 4 author links, 5 narrators, 6 series entries.
    with django_assert_num_queries(7):
        body = viewer_client.get(URL, params).json()

    assert len(body["results"]) == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_search_action_costs_the_same_for_any_page_size(viewer_client, django_assert_num_queries, rows):
    make_books(rows)

    # 0 throttle counter, 1 COUNT of the matches, 2 the ranked page, 3 author links,
    # 4 narrators, 5 series entries.
    with django_assert_num_queries(6):
        body = viewer_client.get(URL + "search/", {"q": "dragon"}).json()

    assert len(body["results"]) == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_incomplete_costs_the_same_for_any_page_size(viewer_client, django_assert_num_queries, rows):
    make_books(rows)

    # 0 throttle counter, 1 COUNT, 2 the page, 3 author links, 4 narrators, 5 series entries (missing fields
    # are computed from those prefetches).
    with django_assert_num_queries(6):
        body = viewer_client.get(URL + "incomplete/").json()

    assert len(body["results"]) == rows
    assert all(row["missing_fields"] for row in body["results"])


@pytest.mark.parametrize("rows", [4, 30])
def test_duplicates_costs_the_same_for_any_number_of_groups(viewer_client, django_assert_num_queries, rows):
    make_books(rows)

    # 0 throttle counter, 1 id/title/isbn/asin of every active book, 2 first authors of active books,
    # 3 the page's books, 4 their author links with authors.
    with django_assert_num_queries(5):
        body = viewer_client.get(URL + "duplicates/").json()

    assert body["count"] == rows // 2


@pytest.mark.parametrize("rows", [3, 30])
def test_stats_costs_the_same_for_any_library_size(viewer_client, django_assert_num_queries, rows):
    make_books(rows)

    # 0 throttle counter, 1 counts by status, 2 active totals and averages,
    # 3 counts by format, 4 counts by language.
    with django_assert_num_queries(5):
        body = viewer_client.get(URL + "stats/").json()

    assert body["total"] == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_retrieve_costs_the_same_for_any_library_size(viewer_client, django_assert_num_queries, rows):
    make_books(rows)
    book = Book.objects.order_by("id").last()

    # 0 throttle counter, 1 the book, 2 author links, 3 narrators, 4 series entries, 5 files.
    with django_assert_num_queries(6):
        viewer_client.get(f"{URL}{book.id}/")
