"""The gaps admin: list, filters, actions through the services, and the series page's positions."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from library.models import MissingBook
from library.services.books import book_create, series_ref
from scheduler.models import JobRun
from tests.factories import AuthorFactory, SeriesFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True, role="admin"))
    return client


@pytest.fixture
def series():
    author = AuthorFactory(name="Brandon Sanderson")
    series = SeriesFactory(name="Saga", primary_author=author, total_known=8, last_checked=timezone.now())
    for label in ("1", "2", "4", "5-6", "2.5"):
        book_create(fields={"title": f"Owned {label}"}, authors=[author], series=[series_ref(series, label)])
    return series


def gap(series=None, position=None, **fields):
    values = {"title": "Missing", "reason": "series_gap" if series else "author_gap", **fields}
    return MissingBook.objects.create(
        series=series,
        primary_author=series.primary_author if series else AuthorFactory(),
        position=None if position is None else Decimal(position),
        position_label=position or "",
        title_key=values["title"].lower(),
        last_seen=timezone.now(),
        **values,
    )


CHANGELIST = reverse("admin:library_missingbook_changelist")


def test_the_changelist_filters_and_searches(site, series):
    three = gap(series, "3", title="Book Three")
    gap(title="Elantris", status="wanted")

    assert site.get(CHANGELIST).status_code == 200
    for params in ({"reason__exact": "series_gap"}, {"status__exact": "identified"}, {"series__id__exact": series.id}):
        response = site.get(CHANGELIST, params)
        assert response.status_code == 200
        assert response.context["cl"].result_count == 1
    assert site.get(CHANGELIST, {"q": "three"}).context["cl"].result_count == 1
    assert site.get(reverse("admin:library_missingbook_change", args=[three.pk])).status_code == 200


def test_ignore_and_want_actions_change_status_and_counts(site, series):
    three, seven = gap(series, "3"), gap(series, "7")
    book = book_create(fields={"title": "Eight"}, authors=[series.primary_author])
    done = gap(series, "8", status="completed", resolved_book=book)
    selected = [three.pk, seven.pk, done.pk]

    site.post(CHANGELIST, {"action": "ignore", "_selected_action": selected})

    assert sorted(MissingBook.objects.values_list("status", flat=True)) == ["completed", "ignored", "ignored"]
    series.refresh_from_db()
    assert series.books_missing == 0

    site.post(CHANGELIST, {"action": "want", "_selected_action": [three.pk]})
    three.refresh_from_db()
    assert three.status == "wanted"
    series.refresh_from_db()
    assert series.books_missing == 1


def test_reanalyze_queues_a_run_for_the_selected_gaps_series_and_authors(site, series):
    author_gap = gap(title="Elantris")
    selected = [gap(series, "3").pk, gap(series, "7").pk, author_gap.pk]

    response = site.post(CHANGELIST, {"action": "reanalyze", "_selected_action": selected}, follow=True)

    run = JobRun.objects.get()
    assert (run.job, run.trigger, run.status) == ("gap_analysis", "admin", "queued")
    assert run.params == {"series_ids": [series.id], "author_ids": [author_gap.primary_author_id]}
    assert "Queued gap analysis run" in response.content.decode()

    again = site.post(CHANGELIST, {"action": "reanalyze", "_selected_action": selected}, follow=True)
    assert "already queued or running" in again.content.decode()
    assert JobRun.objects.count() == 1


def test_the_series_page_shows_owned_and_missing_positions_and_the_gaps(site, series):
    gap(series, "3", title="Book Three")
    gap(series, "7", title="Book Seven", status="ignored")

    response = site.get(reverse("admin:library_series_change", args=[series.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Owned: 1–2, 4–6, 2.5" in page
    assert "Missing (open gaps): 3<br>" in page
    assert "Book Three" in page and "Book Seven" in page


def test_a_new_series_page_still_opens(site):
    assert site.get(reverse("admin:library_series_add")).status_code == 200
