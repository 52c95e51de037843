"""The import_lists job: a Goodreads shelf and Hardcover's want-to-read list become wishlist gaps."""

from contextlib import ExitStack
from io import StringIO

import pytest
from django.core.management import call_command

from library.integrations import base
from library.models import Author, MissingBook
from library.services.books import book_create, series_ref
from library.services.gaps_rules import isbn13
from scheduler.choices import RunStatus, Trigger
from scheduler.models import JobRun
from scheduler.runner import job_run_now
from tests.factories import AuthorFactory, BookFactory, SeriesFactory
from tests.library.lists_fake import (
    ENTITY_BOMB,
    GOODREADS_KEY,
    HARDCOVER_TOKEN,
    SIGN_IN_PAGE,
    fake_server,
    gr_item,
    hc_book,
    running_fake,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def lists_server():
    with fake_server() as server:
        yield server


@pytest.fixture
def start_fake(settings, monkeypatch, lists_server):
    """``start_fake(goodreads=True, hardcover=True)`` → a FakeLists the settings point at."""
    monkeypatch.setattr(base, "_sleep", lambda seconds: None)
    with ExitStack() as stack:
        yield lambda **options: stack.enter_context(running_fake(settings, lists_server, **options))


def _import() -> JobRun:
    return job_run_now(name="import_lists", trigger=Trigger.COMMAND)


def _wishlist() -> list[MissingBook]:
    return list(MissingBook.objects.filter(reason="wishlist").select_related("primary_author").order_by("title"))


def _shelf_of_40() -> list[dict]:
    """40 books of 8 authors; books 0-4 are owned by ISBN, 5-9 by title and author."""
    items = []
    for index in range(40):
        author = f"Writer{index % 8}, Ada"  # Goodreads writes some names "Last, First"
        title = f"Tale Number {index} ({'Saga' if index % 2 else 'Cycle'} {index % 8}, #{index % 5 + 1})"
        items.append(gr_item(title, author, isbn=_isbn10(index), book_id=index))
    return items


def _isbn10(index: int) -> str:
    core = f"{100000000 + index:09d}"
    check = sum((10 - position) * int(digit) for position, digit in enumerate(core)) % 11
    return core + ("X" if (11 - check) % 11 == 10 else str((11 - check) % 11))


def _own_ten_of_the_shelf():
    for index in range(5):
        BookFactory(title=f"Different Title {index}", isbn=isbn13(_isbn10(index)), status="active")
    for index in range(5, 10):
        author = Author.objects.filter(name=f"Ada Writer{index % 8}").first() or AuthorFactory(
            name=f"Ada Writer{index % 8}"
        )
        # The library's title has no series suffix and an edition note; Goodreads' has both.
        BookFactory(title=f"Tale Number {index} (Unabridged)", authors=[author], status="active")


# --- Goodreads ----------------------------------------------------------------------------------


def test_a_shelf_of_40_with_10_owned_becomes_30_wanted_wishlist_gaps(start_fake):
    fake = start_fake(hardcover=False)
    fake.goodreads_items = _shelf_of_40()
    _own_ten_of_the_shelf()

    run = _import()

    assert run.status == RunStatus.SUCCEEDED, run.error
    gaps = _wishlist()
    assert len(gaps) == 30
    owned_titles = {f"Tale Number {index}" for index in range(10)}
    assert not owned_titles & {gap.title for gap in gaps}
    first = next(gap for gap in gaps if gap.title == "Tale Number 10")
    assert (first.status, first.priority, first.sources) == ("wanted", 2, ["goodreads"])
    assert first.primary_author.name == "Ada Writer2"
    assert first.author_names == ["Ada Writer2"]
    assert (first.isbn, len(first.isbn)) == (isbn13(_isbn10(10)), 13)  # Goodreads' ISBN-10, stored as ISBN-13
    assert first.identifiers == {"goodreads": "10"}
    assert list(first.authors.values_list("name", flat=True)) == ["Ada Writer2"]
    assert (run.processed, run.succeeded, run.skipped, run.failed) == (40, 30, 10, 0)
    assert run.summary["created"] == 30 and run.summary["owned"] == 10 and run.summary["existing"] == 0
    assert run.summary["sources"] == {
        "goodreads": {"items": 40, "created": 30, "existing": 0, "owned": 10, "read": 0, "unusable": 0}
    }
    (request,) = fake.requests_to("/review/list_rss/")
    assert request["query"] == {"key": GOODREADS_KEY, "shelf": "#ALL#"}
    assert "xml" in request["headers"]["Accept"]


def test_a_second_import_adds_nothing_and_updates_last_seen(start_fake):
    fake = start_fake(hardcover=False)
    fake.goodreads_items = _shelf_of_40()
    _own_ten_of_the_shelf()
    _import()
    seen_before = {gap.pk: gap.last_seen for gap in _wishlist()}

    run = _import()

    gaps = _wishlist()
    assert {gap.pk for gap in gaps} == set(seen_before)
    assert all(gap.last_seen > seen_before[gap.pk] for gap in gaps)
    assert (run.summary["created"], run.summary["existing"], run.summary["owned"]) == (0, 30, 10)
    assert run.succeeded == 0


def test_the_same_book_listed_twice_or_on_both_lists_is_one_gap(start_fake):
    fake = start_fake()
    fake.goodreads_items = [
        gr_item("Mistborn: The Final Empire (Mistborn, #1)", "Brandon Sanderson", isbn="0765311786", book_id=1),
        gr_item("The Final Empire", "Sanderson, Brandon", book_id=2),
    ]
    fake.hardcover_books = [
        hc_book(7, "Mistborn: The Final Empire", ["Brandon Sanderson"], editions=[{"isbn_13": "9780765311788"}])
    ]

    run = _import()

    (gap,) = _wishlist()
    assert (gap.title, gap.sources) == ("Mistborn: The Final Empire", ["goodreads", "hardcover"])
    assert run.summary["existing"] == 2


def test_a_book_already_a_series_gap_or_author_gap_is_not_duplicated(start_fake):
    fake = start_fake(hardcover=False)
    author = AuthorFactory(name="Brandon Sanderson", monitored=True)
    series = SeriesFactory(name="The Stormlight Archive", primary_author=author)
    book_create(fields={"title": "The Way of Kings"}, authors=[author], series=[series_ref(series, "1")])
    series_gap = MissingBook.objects.create(
        title="Words of Radiance",
        title_key="words of radiance",
        primary_author=author,
        series=series,
        position=2,
        reason="series_gap",
        last_seen="2024-01-01T00:00:00Z",
    )
    author_gap = MissingBook.objects.create(
        title="Elantris",
        title_key="elantris",
        primary_author=author,
        reason="author_gap",
        last_seen=series_gap.last_seen,
    )
    fake.goodreads_items = [
        gr_item("Words of Radiance (The Stormlight Archive, #2)", "Brandon Sanderson", book_id=1),
        gr_item("Oathbringer (The Stormlight Archive, #3)", "Brandon Sanderson", book_id=2),
        gr_item("Elantris", "Brandon Sanderson", book_id=3),
        gr_item("The Way of Kings (The Stormlight Archive, #1)", "Brandon Sanderson", book_id=4),
    ]

    run = _import()

    assert [gap.title for gap in _wishlist()] == ["Oathbringer"]
    assert (run.summary["created"], run.summary["existing"], run.summary["owned"]) == (1, 2, 1)
    series_gap.refresh_from_db()
    author_gap.refresh_from_db()
    assert (series_gap.reason, author_gap.reason) == ("series_gap", "author_gap")
    assert MissingBook.objects.count() == 3


def test_books_already_read_on_goodreads_are_not_wanted(start_fake):
    fake = start_fake(hardcover=False)
    fake.goodreads_items = [
        gr_item("Read Long Ago", "Ann Reader", shelves="read", read_at="Tue, 05 Mar 2024 00:00:00 -0800", book_id=1),
        gr_item("Still To Read", "Ann Reader", shelves="to-read, fantasy", book_id=2),
    ]

    run = _import()

    assert [gap.title for gap in _wishlist()] == ["Still To Read"]
    assert (run.summary["read"], run.summary["created"]) == (1, 1)


# --- Hardcover ----------------------------------------------------------------------------------


def test_hardcover_want_to_read_books_become_gaps(start_fake):
    fake = start_fake(goodreads=False)
    owner = AuthorFactory(name="Martha Wells")
    BookFactory(title="All Systems Red (The Murderbot Diaries)", asin="B01MYZ8X5C", authors=[owner])
    fake.hardcover_books = [
        hc_book(
            1,
            "All Systems Red",
            ["Martha Wells"],
            editions=[{"isbn_13": None, "isbn_10": None, "asin": "B01N0ABCDE"}, {"asin": "b01myz8x5c"}],
        ),
        hc_book(
            2,
            "Piranesi",
            ["Susanna Clarke"],
            narrators=["Chiwetel Ejiofor"],
            editions=[{"isbn_13": "9781635575637", "isbn_10": "1635575630", "asin": "B08BKRFDHQ"}],
        ),
    ]

    run = _import()

    assert run.status == RunStatus.SUCCEEDED, run.error
    (gap,) = _wishlist()
    assert (gap.title, gap.author_names, gap.primary_author.name) == ("Piranesi", ["Susanna Clarke"], "Susanna Clarke")
    assert (gap.isbn, gap.asin, gap.identifiers) == ("9781635575637", "B08BKRFDHQ", {"hardcover": "2"})
    assert (gap.status, gap.priority, gap.sources) == ("wanted", 2, ["hardcover"])
    assert run.summary["sources"]["hardcover"]["owned"] == 1
    (request,) = fake.requests_to("/v1/graphql")
    assert request["headers"]["Authorization"] == f"Bearer {HARDCOVER_TOKEN}"
    assert "status_id: {_eq: 1}" in request["body"]


# --- failures -----------------------------------------------------------------------------------

BROKEN_FEEDS = {
    "html": (SIGN_IN_PAGE, "text/html", "sent an HTML page"),
    "garbage": (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "application/xml", "not XML"),
    "entity bomb": (ENTITY_BOMB, "application/rss+xml", "DOCTYPE declaration"),
    "not rss": (
        '<?xml version="1.0"?><feed><entry/></feed>',
        "application/xml",
        "not an RSS feed (root element <feed>)",
    ),
}


@pytest.mark.parametrize("kind", list(BROKEN_FEEDS))
def test_a_broken_feed_fails_goodreads_while_hardcover_still_imports(start_fake, kind):
    fake = start_fake()
    fake.goodreads_body, fake.goodreads_content_type, message = BROKEN_FEEDS[kind]
    fake.hardcover_books = [hc_book(3, "The Fifth Season", ["N. K. Jemisin"])]

    run = _import()

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert [gap.title for gap in _wishlist()] == ["The Fifth Season"]
    error = run.summary["sources"]["goodreads"]["error"]
    assert error.startswith("Goodreads ") and message in error
    assert GOODREADS_KEY not in error
    assert run.failed == 1 and run.succeeded == 1
    assert "goodreads failed" in run.log_tail


def test_a_private_shelf_without_its_key_is_reported_as_an_html_page(start_fake, settings):
    fake = start_fake(hardcover=False)
    settings.GOODREADS_RSS_URL = fake.feed_url.replace(GOODREADS_KEY, "wrong-key")

    run = _import()

    assert run.status == RunStatus.FAILED
    assert "sent an HTML page" in run.error and "wrong-key" not in run.error
    assert run.summary["sources"]["goodreads"]["error"]


def test_when_every_list_fails_the_run_fails(start_fake, settings):
    fake = start_fake()
    fake.goodreads_body = "not xml at all"
    settings.HARDCOVER_TOKEN = "revoked-token"

    run = _import()

    assert run.status == RunStatus.FAILED
    assert "Goodreads sent a body that is not XML" in run.error
    assert "Hardcover rejected the credentials (HTTP 401" in run.error
    assert not MissingBook.objects.exists()


def test_nothing_configured_is_a_failed_run_saying_what_to_set(start_fake):
    start_fake(goodreads=False, hardcover=False)

    run = _import()

    assert run.status == RunStatus.FAILED
    assert "set GOODREADS_RSS_URL or HARDCOVER_TOKEN" in run.error


# --- progress pushed to Audiobookshelf ----------------------------------------------------------

READ_AT = "Tue, 05 Mar 2024 00:00:00 -0800"


def _read_library(fake):
    author = AuthorFactory(name="Ursula K. Le Guin")
    BookFactory(title="A Wizard of Earthsea", authors=[author], abs_id="li_read_owned")
    BookFactory(title="The Tombs of Atuan", authors=[author], abs_id="li_unread_owned")
    BookFactory(title="The Farthest Shore", authors=[author])  # read, owned, not in ABS
    fake.goodreads_items = [
        gr_item("A Wizard of Earthsea (Earthsea Cycle, #1)", "Ursula K. Le Guin", shelves="read", read_at=READ_AT),
        gr_item("The Tombs of Atuan (Earthsea Cycle, #2)", "Ursula K. Le Guin", book_id=2),
        gr_item("The Farthest Shore (Earthsea Cycle, #3)", "Ursula K. Le Guin", shelves="read", book_id=3),
        gr_item("Tehanu (Earthsea Cycle, #4)", "Ursula K. Le Guin", shelves="read", read_at=READ_AT, book_id=4),
    ]


def test_a_read_owned_book_in_abs_is_marked_finished_once(start_fake, settings):
    fake = start_fake(hardcover=False)
    settings.ABS_PUSH_PROGRESS = True
    _read_library(fake)

    first = _import()
    second = _import()

    assert fake.finished == ["li_read_owned"]
    (request,) = fake.requests_to("/api/me/progress/")
    assert (request["method"], request["headers"]["Authorization"]) == ("PATCH", "Bearer abs-key-progress-3f")
    assert first.summary["finished_pushed"] == 1
    assert (second.summary["finished_pushed"], second.summary["finished_unchanged"]) == (0, 1)


def test_a_new_read_date_is_sent_again(start_fake, settings):
    fake = start_fake(hardcover=False)
    settings.ABS_PUSH_PROGRESS = True
    _read_library(fake)
    _import()
    fake.goodreads_items[0]["read_at"] = "Sun, 01 Dec 2024 00:00:00 -0800"

    _import()

    assert fake.finished == ["li_read_owned", "li_read_owned"]


def test_without_abs_push_progress_nothing_is_sent(start_fake):
    fake = start_fake(hardcover=False)
    _read_library(fake)

    run = _import()

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert fake.requests_to("/api/me/progress/") == []
    assert "finished_pushed" not in run.summary


def test_a_refused_progress_push_is_reported_and_the_import_still_succeeds(start_fake, settings):
    fake = start_fake(hardcover=False)
    settings.ABS_PUSH_PROGRESS = True
    settings.ABS_API_KEY = "not-the-key"
    _read_library(fake)

    run = _import()

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert fake.finished == []
    assert "rejected the credentials" in run.summary["finished_errors"][0]
    assert run.summary["created"] == 0  # Tombs is owned, the read books are not wanted


# --- the command --------------------------------------------------------------------------------


def test_the_command_runs_the_job_and_prints_its_summary(start_fake):
    fake = start_fake()
    fake.goodreads_items = [gr_item("Hyperion (Hyperion Cantos, #1)", "Dan Simmons")]
    fake.hardcover_books = [hc_book(4, "Dune", ["Frank Herbert"])]
    out = StringIO()

    call_command("import_lists", stdout=out)

    run = JobRun.objects.get()
    assert (run.job, run.trigger, run.status) == ("import_lists", "command", "succeeded")
    output = out.getvalue()
    assert f"import_lists #{run.pk} succeeded" in output
    assert "processed=2 succeeded=2" in output and '"created":2' in output
    assert [gap.title for gap in _wishlist()] == ["Dune", "Hyperion"]
