"""What a person sees in a real browser: the admin dashboard, a book's form, the browsable API, the login guard."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from downloads.models import Download, DownloadStatus
from library.models import GapStatus, MissingBook
from scheduler.models import JobRun
from tests.factories import BookFactory, SeriesFactory, UserFactory

pytestmark = pytest.mark.browser

# Every figure on the dashboard, by its label, as the ``library`` fixture below makes them.
EXPECTED_FIGURES = {
    "books": 7,  # active only
    "series": 3,
    "open gaps": 4,  # not completed, not ignored
    "archived": 1,
    "wanted": 4,  # wanted, found and not found
    "held": 2,  # one found gap with a hold reason, one held download
    "queued": 1,
    "downloading": 2,
    "failed": 1,
}


def _gap(title: str, status: str, hold_reason: str = "") -> MissingBook:
    return MissingBook.objects.create(
        title=title, title_key=title.lower(), reason="wishlist", status=status, hold_reason=hold_reason,
        last_seen=timezone.now(),
    )  # fmt: skip


@pytest.fixture
def library(transactional_db):
    """Seven active books and an archived one, three series, six gaps, five downloads, one job run."""
    books = [BookFactory(title=f"The Long Road {n}") for n in range(1, 8)]
    BookFactory(title="An Old Copy", status="archived")
    for completion in ("complete", "partial", "incomplete"):
        SeriesFactory(completion_status=completion)
    for index, status in enumerate((GapStatus.WANTED, GapStatus.WANTED, GapStatus.NOT_FOUND)):
        _gap(f"Gap {index}", status)
    _gap("Held gap", GapStatus.FOUND, hold_reason="ratio 1.12 below 1.5")
    _gap("Done gap", GapStatus.COMPLETED)
    _gap("Ignored gap", GapStatus.IGNORED)
    statuses = (
        DownloadStatus.QUEUED, DownloadStatus.DOWNLOADING, DownloadStatus.DOWNLOADING, DownloadStatus.FAILED,
        DownloadStatus.HELD,
    )  # fmt: skip
    for index, status in enumerate(statuses):
        Download.objects.create(title=f"Download {index}", info_hash=f"{index:040x}", status=status)
    JobRun.objects.create(job="gap_analysis", trigger="api", status="succeeded", duration_seconds=1.5)
    return books


def _figures(page) -> dict[str, int]:
    """Each dashboard figure as ``{label: number}``, read from its ``<strong>`` in the page."""
    pairs = page.eval_on_selector_all(
        "#dashboard .figure",
        "figures => figures.map(f => [f.lastChild.textContent.trim(), f.querySelector('strong').textContent.trim()])",
    )
    return {label: int(number) for label, number in pairs}


def test_the_admin_index_shows_the_dashboard_with_the_real_counts(admin_page, library, screenshot):
    admin_page.reload()  # the data now exists; the login landed on the index before

    for section in (
        "#dashboard",
        "#dashboard-library",
        "#dashboard-acquisition",
        "#dashboard-books-per-month svg",
        "#dashboard-series-completion svg",
        "#dashboard-jobs",
        "#dashboard-integrations",
    ):
        assert admin_page.locator(section).is_visible(), section
    assert _figures(admin_page) == EXPECTED_FIGURES
    this_month = timezone.localtime().strftime("%Y-%m")
    month_bars = admin_page.locator("#dashboard-books-per-month svg rect title").all_text_contents()
    assert f"{this_month}: 8" in month_bars and len(month_bars) == 12
    completion_bars = admin_page.locator("#dashboard-series-completion svg rect title").all_text_contents()
    assert completion_bars == ["Complete: 1", "Partial: 1", "Incomplete: 1", "Unknown: 0"]
    assert "gap_analysis" in admin_page.inner_text("#dashboard-jobs")
    assert admin_page.locator("#dashboard-jobs .state-succeeded").count() == 1
    assert admin_page.locator("#dashboard-integrations tr").count() >= 1
    screenshot(admin_page, "admin-dashboard")


def test_a_book_change_form_shows_the_books_title(admin_page, library, screenshot):
    book = library[0]

    admin_page.goto(f"/admin/library/book/{book.pk}/change/")

    assert admin_page.input_value("#id_title") == book.title
    assert admin_page.locator("input[type=submit][name=_save]").is_visible()
    screenshot(admin_page, "admin-book-change")


def test_the_browsable_api_lists_the_books_for_a_logged_in_admin(admin_page, library, screenshot):
    admin_page.goto("/api/v1/books/")

    # The browsable API prints the response body, pretty-printed JSON, in its ``.response-info`` block.
    body = admin_page.inner_text(".response-info pre")
    data = json.loads(body[body.index("{") :])
    assert data["count"] == 8  # the list includes the archived book
    assert {book["title"] for book in data["results"]} == {book.title for book in library} | {"An Old Copy"}
    for book in library:
        assert admin_page.get_by_text(f'"{book.title}"').count() >= 1
    screenshot(admin_page, "api-book-list")


def test_the_admin_login_blocks_the_sixth_wrong_password(page, settings, transactional_db, screenshot):
    # Per hour rather than per minute, so that a minute boundary cannot reset the count mid-test.
    settings.LOGIN_ATTEMPTS_RATE = "5/h"
    UserFactory(username="victim", is_staff=True)
    page.goto("/admin/login/")

    for attempt in range(1, 7):
        page.fill("#id_username", "victim")
        page.fill("#id_password", f"wrong-{attempt}")
        with page.expect_navigation() as navigation:
            page.click("input[type=submit]")
        shown = page.inner_text("body")
        assert navigation.value.status == (429 if attempt == 6 else 200), attempt
        if attempt < 6:
            assert "Please enter the correct username and password" in shown, attempt
            assert "Too many login attempts" not in shown, attempt

    # The guard's message comes through Django's messages framework, above the form.
    assert page.inner_text(".messagelist .error") == "Too many login attempts. Wait a minute before trying again."
    assert page.locator("#id_password").is_visible()  # the form is still offered
    screenshot(page, "admin-login-blocked")
