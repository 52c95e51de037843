"""Author lists issue the same number of queries for 3 rows as for 30 (SPEC §12)."""

import pytest

from mamcrawler.api.throttling import TieredThrottleMixin
from tests.factories import AuthorFactory, BookFactory, SeriesFactory

pytestmark = pytest.mark.django_db

ROWS = [3, 30]


@pytest.fixture(autouse=True)
def without_throttle_counter(monkeypatch):
    """Leave the throttle out of the counts: its counter upsert (and a random purge now and
    then) is per request, not per row, and is tested with the throttles themselves."""
    monkeypatch.setattr(TieredThrottleMixin, "get_throttles", lambda self: [])


@pytest.mark.parametrize("rows", ROWS)
def test_the_author_list_takes_two_queries(viewer_client, django_assert_num_queries, rows):
    AuthorFactory.create_batch(rows, books_owned=3)
    # 1 COUNT of authors, 2 the page of authors.
    with django_assert_num_queries(2):
        response = viewer_client.get("/api/v1/authors/", {"limit": 50, "min_books": 1, "ordering": "-books_owned"})
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_an_authors_books_take_four_queries(viewer_client, django_assert_num_queries, rows):
    author, cowriter = AuthorFactory(), AuthorFactory()
    BookFactory.create_batch(rows, authors=[author, cowriter])
    # 1 the author, 2 COUNT of their books, 3 the page of books,
    # 4 the page's book-author links with author names.
    with django_assert_num_queries(4):
        response = viewer_client.get(f"/api/v1/authors/{author.id}/books/", {"limit": 50})
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_an_authors_series_take_four_queries(viewer_client, django_assert_num_queries, rows):
    author, cowriter = AuthorFactory(), AuthorFactory()
    for _ in range(rows):
        series = SeriesFactory(primary_author=author)
        series.authors.add(author, cowriter)
    # 1 the author, 2 COUNT of their series, 3 the page joined with the primary author,
    # 4 the listed authors of the page.
    with django_assert_num_queries(4):
        response = viewer_client.get(f"/api/v1/authors/{author.id}/series/", {"limit": 50})
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_favorites_take_two_queries(viewer_client, django_assert_num_queries, rows):
    AuthorFactory.create_batch(rows, books_owned=4)
    # 1 COUNT of authors with enough books, 2 the page of authors.
    with django_assert_num_queries(2):
        response = viewer_client.get("/api/v1/authors/favorites/", {"limit": 50})
    assert len(response.json()["results"]) == rows
