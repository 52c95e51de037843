"""The admin index as a dashboard: real counts, server-side charts, latest runs, integrations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from downloads.models import Download, DownloadStatus, MamAccountSnapshot
from library.models import Book, GapStatus, MissingBook
from mamcrawler.system.dashboard import books_added_per_month, dashboard_context, series_completion
from scheduler.models import JobRun
from tests.factories import BookFactory, SeriesFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True, role="admin"))
    return client


def gap(title: str, status: str, hold_reason: str = "") -> MissingBook:
    return MissingBook.objects.create(
        title=title, title_key=title.lower(), reason="wishlist", status=status, hold_reason=hold_reason,
        last_seen=timezone.now(),
    )  # fmt: skip


def figure(html: str, label: str) -> int:
    match = re.search(rf"<strong>(\d+)</strong>{label}<", html)
    assert match, f"no figure for {label!r}"
    return int(match.group(1))


def test_the_admin_index_shows_the_librarys_real_numbers(site):
    BookFactory.create_batch(4)
    BookFactory(status="archived")
    SeriesFactory(completion_status="complete")
    SeriesFactory(completion_status="partial")
    gap("Wanted one", GapStatus.WANTED)
    gap("Held one", GapStatus.FOUND, hold_reason="ratio 1.12 below 1.5")
    Download.objects.create(title="a", info_hash="1" * 40, status=DownloadStatus.QUEUED)
    Download.objects.create(title="b", info_hash="2" * 40, status=DownloadStatus.DOWNLOADING)
    Download.objects.create(title="c", info_hash="3" * 40, status=DownloadStatus.DOWNLOADING)
    JobRun.objects.create(job="gap_analysis", trigger="api", status="failed")
    MamAccountSnapshot.objects.create(uploaded_bytes=112 * 2**30, downloaded_bytes=100 * 2**30, unsat_limit=50)

    html = site.get("/admin/").content.decode()

    assert 'id="dashboard"' in html
    assert (figure(html, "books"), figure(html, "series"), figure(html, "archived")) == (4, 2, 1)
    assert (figure(html, "wanted"), figure(html, "held")) == (2, 1)
    assert (figure(html, "queued"), figure(html, "downloading")) == (1, 2)
    assert "Paid downloads: held: ratio 1.1" in html
    assert 'class="state-failed">failed' in html and "gap_analysis" in html
    assert '<svg role="img" aria-label="Books added per month"' in html
    assert "<title>Complete: 1</title>" in html and "<title>Partial: 1</title>" in html
    assert "qbittorrent" in html
    assert 'id="content-main"' in html  # the list of models is still there


def test_books_per_month_covers_twelve_months_with_empty_ones(settings):
    settings.TIME_ZONE = "UTC"
    now = timezone.now()
    BookFactory.create_batch(3)
    old = BookFactory()
    Book.objects.filter(pk=old.pk).update(date_added=now - timedelta(days=65))
    Book.objects.filter(pk=BookFactory().pk).update(date_added=now - timedelta(days=800))  # too old to show

    chart = books_added_per_month(now=now)

    labels = [bar["label"] for bar in chart["bars"]]
    assert len(labels) == 12 and labels[-1] == now.strftime("%Y-%m") and labels == sorted(labels)
    values = {bar["label"]: bar["value"] for bar in chart["bars"]}
    assert values[now.strftime("%Y-%m")] == 3 and sum(values.values()) == 4
    tallest = max(chart["bars"], key=lambda bar: bar["value"])
    assert tallest["width"] == 240 and chart["height"] == 12 * 16


def test_series_completion_lists_every_status_even_when_empty():
    SeriesFactory(completion_status="incomplete")

    chart = series_completion()

    assert [(bar["label"], bar["value"]) for bar in chart["bars"]] == [
        ("Complete", 0),
        ("Partial", 0),
        ("Incomplete", 1),
        ("Unknown", 0),
    ]


@pytest.mark.parametrize("rows", [2, 20])
def test_the_dashboard_takes_a_fixed_number_of_queries(django_assert_num_queries, rows):
    BookFactory.create_batch(rows)
    for number in range(rows):
        JobRun.objects.create(job="cleanup", trigger="api")
        gap(f"Gap {number}", GapStatus.WANTED)

    with django_assert_num_queries(12):
        dashboard_context()
