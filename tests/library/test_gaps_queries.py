"""Gap lists issue the same number of queries for 3 rows as for 30 (SPEC §12)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from library.models import MissingBook
from mamcrawler.api.throttling import TieredThrottleMixin
from scheduler.models import JobRun
from tests.factories import AuthorFactory, SeriesFactory, UserFactory

pytestmark = pytest.mark.django_db

ROWS = [3, 30]


@pytest.fixture(autouse=True)
def without_throttle_counter(monkeypatch):
    """Leave the throttle out of the counts: its counter upsert is per request, not per row."""
    monkeypatch.setattr(TieredThrottleMixin, "get_throttles", lambda self: [])


def make_gaps(count, *, series=None, author=None):
    """``count`` gaps, each with two linked authors; series gaps when ``series`` is given."""
    author = author or AuthorFactory()
    cowriter = AuthorFactory()
    for number in range(1, count + 1):
        gap = MissingBook.objects.create(
            title=f"Missing {number}",
            title_key=f"missing {number}",
            reason="series_gap" if series else "author_gap",
            series=series or SeriesFactory(primary_author=author),
            position=Decimal(number),
            position_label=str(number),
            primary_author=author,
            best_candidate={"mam_torrent_id": number, "cost": "free"},
            last_seen=timezone.now(),
        )
        gap.authors.set([author, cowriter])
    return author


@pytest.mark.parametrize("rows", ROWS)
def test_the_gap_list_takes_three_queries(viewer_client, django_assert_num_queries, rows):
    make_gaps(rows)
    # 1 COUNT of gaps, 2 the page of gaps joined with their series, 3 the linked authors of the page.
    with django_assert_num_queries(3):
        response = viewer_client.get("/api/v1/gaps/", {"limit": 50})
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_the_filtered_gap_list_takes_three_queries(viewer_client, django_assert_num_queries, rows):
    author = make_gaps(rows)
    params = {"author": author.id, "status": "identified", "free": "true", "ordering": "-position", "search": "Miss"}
    # 1 COUNT, 2 the page joined with series (the author filter is a subquery), 3 the page's authors.
    with django_assert_num_queries(3):
        response = viewer_client.get("/api/v1/gaps/", params)
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_series_gaps_take_four_queries(viewer_client, django_assert_num_queries, rows):
    series = SeriesFactory(primary_author=AuthorFactory())
    make_gaps(rows, series=series, author=series.primary_author)
    # 1 the series, 2 COUNT of its gaps, 3 the page joined with the series, 4 the page's authors.
    with django_assert_num_queries(4):
        response = viewer_client.get(f"/api/v1/series/{series.id}/gaps/", {"limit": 50})
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_author_gaps_take_four_queries(viewer_client, django_assert_num_queries, rows):
    author = make_gaps(rows)
    # 1 the author, 2 COUNT of their gaps, 3 the page joined with series, 4 the page's authors.
    with django_assert_num_queries(4):
        response = viewer_client.get(f"/api/v1/authors/{author.id}/gaps/", {"limit": 50})
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_the_analysis_history_takes_two_queries(viewer_client, django_assert_num_queries, rows):
    user = UserFactory()
    JobRun.objects.bulk_create(
        [JobRun(job="gap_analysis", trigger="api", status="succeeded", requested_by=user) for _ in range(rows)]
    )
    # 1 COUNT of gap_analysis runs, 2 the page joined with who requested them.
    with django_assert_num_queries(2):
        response = viewer_client.get("/api/v1/gaps/history/", {"limit": 50})
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_stats_and_report_do_not_grow_with_the_gaps(viewer_client, django_assert_num_queries, rows):
    make_gaps(rows)
    # 1 one aggregate over all gaps.
    with django_assert_num_queries(1):
        viewer_client.get("/api/v1/gaps/stats/")
    # 1 the latest finished run, 2 missing per reason, 3 every gap per status, 4 the top series.
    with django_assert_num_queries(4):
        viewer_client.get("/api/v1/gaps/report/")
