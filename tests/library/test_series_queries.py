"""Series lists issue the same number of queries for 3 rows as for 30 (SPEC §12)."""

import pytest

from library.services.books import book_create, series_ref
from mamcrawler.api.throttling import TieredThrottleMixin
from tests.factories import AuthorFactory, SeriesFactory

pytestmark = pytest.mark.django_db

ROWS = [3, 30]


@pytest.fixture(autouse=True)
def without_throttle_counter(monkeypatch):
    """Leave the throttle out of the counts: its counter upsert (and a random purge now and
    then) is per request, not per row, and is tested with the throttles themselves."""
    monkeypatch.setattr(TieredThrottleMixin, "get_throttles", lambda self: [])


def make_series(count, **fields):
    authors = AuthorFactory.create_batch(2)
    made = []
    for _ in range(count):
        series = SeriesFactory(primary_author=authors[0], **fields)
        series.authors.add(*authors)
        made.append(series)
    return made


@pytest.mark.parametrize("rows", ROWS)
def test_the_series_list_takes_three_queries(viewer_client, django_assert_num_queries, rows):
    make_series(rows)
    # 1 COUNT of series, 2 the page of series joined with their primary author,
    # 3 the listed authors of the whole page (prefetch through the M2M table).
    with django_assert_num_queries(3):
        response = viewer_client.get("/api/v1/series/", {"limit": 50})
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_the_filtered_series_list_takes_three_queries(viewer_client, django_assert_num_queries, rows):
    series = make_series(rows, completion_status="partial")
    params = {"author": series[0].primary_author_id, "completion_status": "partial", "ordering": "-missing"}
    # 1 COUNT, 2 the page joined with primary author (the author filter is a subquery,
    # not a query of its own), 3 the listed authors of the page.
    with django_assert_num_queries(3):
        response = viewer_client.get("/api/v1/series/", params)
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_series_books_take_four_queries(viewer_client, django_assert_num_queries, rows):
    series = SeriesFactory()
    authors = AuthorFactory.create_batch(2)
    for number in range(1, rows + 1):
        book_create(fields={"title": f"Book {number}"}, authors=authors, series=[series_ref(series, str(number))])
    # 1 the series, 2 COUNT of its books, 3 the page of books with their entry (filtered join),
    # 4 the page's book-author links with author names.
    with django_assert_num_queries(4):
        response = viewer_client.get(f"/api/v1/series/{series.id}/books/", {"limit": 50})
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_incomplete_series_take_three_queries(viewer_client, django_assert_num_queries, rows):
    make_series(rows, completion_status="incomplete", books_missing=3)
    # 1 COUNT, 2 the page joined with primary author, 3 the page's listed authors.
    with django_assert_num_queries(3):
        response = viewer_client.get("/api/v1/series/incomplete/", {"limit": 50})
    assert len(response.json()["results"]) == rows
