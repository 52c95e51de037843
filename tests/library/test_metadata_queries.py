"""The correction lists issue the same number of queries for 3 rows as for 30 (SPEC §12).

Each request starts with one upsert of its throttle counter (the database counter cache).
"""

import pytest

from library.models import MetadataCorrection
from scheduler.models import JobRun
from tests.factories import BookFactory, UserFactory

pytestmark = pytest.mark.django_db


def make_corrections(count):
    """``count`` corrections of one book: by a person, by a job, some reverted."""
    book = BookFactory()
    person = UserFactory(username="someone")
    run = JobRun.objects.create(job="metadata_refresh", trigger="schedule")
    for n in range(count):
        MetadataCorrection.objects.create(
            book=book,
            field="publisher",
            old_value=f"Old {n}",
            new_value=f"New {n}",
            source="manual" if n % 2 else "openlibrary",
            created_by=person if n % 2 else None,
            job_run=None if n % 2 else run,
            reverted_by=person if n % 3 == 0 else None,
        )
    return book


@pytest.mark.parametrize("rows", [3, 30])
def test_the_corrections_list_costs_the_same_for_any_page_size(viewer_client, django_assert_num_queries, rows):
    make_corrections(rows)

    # 0 throttle counter, 1 COUNT, 2 the page (book title and usernames joined in).
    with django_assert_num_queries(3):
        body = viewer_client.get(
            "/api/v1/metadata/corrections/", {"source": "manual", "ordering": "-created_at"}
        ).json()

    assert len(body["results"]) == rows // 2


@pytest.mark.parametrize("rows", [3, 30])
def test_a_books_history_costs_the_same_for_any_page_size(viewer_client, django_assert_num_queries, rows):
    book = make_corrections(rows)

    # 0 throttle counter, 1 the book (404 otherwise), 2 COUNT, 3 the page.
    with django_assert_num_queries(4):
        body = viewer_client.get(f"/api/v1/books/{book.pk}/metadata-history/").json()

    assert len(body["results"]) == rows
    assert {row["created_by"] for row in body["results"]} >= {"someone", f"job:{JobRun.objects.get().pk}"}


@pytest.mark.parametrize("rows", [3, 30])
def test_status_and_by_source_are_a_few_aggregate_queries(viewer_client, django_assert_num_queries, rows):
    make_corrections(rows)
    for _ in range(rows):
        BookFactory()

    # 0 throttle counter, 1 one aggregate over the active books.
    with django_assert_num_queries(2):
        viewer_client.get("/api/v1/metadata/status/")
    # 0 throttle counter, 1 counts per source, 2 counts per source and field.
    with django_assert_num_queries(3):
        viewer_client.get("/api/v1/metadata/by-source/")
