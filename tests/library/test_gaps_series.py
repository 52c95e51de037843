"""Series gaps (SPEC §7.3): known positions not owned, policies, resolution, incremental runs."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from library.choices import BookStatus
from library.models import MissingBook, Series
from library.positions import format_position
from library.services.books import book_create, book_set_status, series_ref
from library.services.gaps import gap_update
from mamcrawler.api.exceptions import ExternalApiError
from scheduler.choices import RunStatus, Trigger
from scheduler.context import JobCancelled, JobContext
from scheduler.runner import job_run_now
from tests.factories import AuthorFactory, SeriesFactory
from tests.library.gaps_fake import FUTURE, PAST, install, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_registry(monkeypatch):
    return install(monkeypatch)


def analyse(**params):
    run = job_run_now(name="gap_analysis", trigger=Trigger.COMMAND, params=params)
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


def book_in(series, label, *, title=None, author=None):
    return book_create(
        fields={"title": title or f"Owned {label}"},
        authors=[author or series.primary_author],
        series=[series_ref(series, label)],
    )


def gaps_of(series) -> dict[str, MissingBook]:
    return {format_position(gap.position): gap for gap in MissingBook.objects.filter(series=series)}


def open_positions(series) -> list[str]:
    rows = MissingBook.objects.filter(series=series).exclude(status="completed").order_by("position")
    return [format_position(gap.position) for gap in rows]


@pytest.fixture
def sanderson():
    return AuthorFactory(name="Brandon Sanderson")


@pytest.fixture
def saga(fake_registry, sanderson):
    """The issue's series: providers know 1..9 and 2.5 (9 unpublished); the library owns 1, 2, 4, 5-6."""
    series = SeriesFactory(name="The Cosmere Saga", primary_author=sanderson)
    members = [member(number, f"Saga Book {number}", published=PAST) for number in range(1, 9)]
    members += [member("2.5", "Saga Novella", provider="audnexus"), member(9, "Saga Book 9", published=FUTURE)]
    fake_registry.add_series("The Cosmere Saga", members)
    for label in ("1", "2", "4", "5-6"):
        book_in(series, label)
    return series


# --- the scenario ----------------------------------------------------------------------


def test_known_positions_not_owned_are_gaps_but_not_the_unpublished_one(saga):
    run = analyse()

    gaps = gaps_of(saga)
    assert sorted(gaps, key=Decimal) == ["2.5", "3", "7", "8"]
    assert {gap.reason for gap in gaps.values()} == {"series_gap"}
    assert {gap.status for gap in gaps.values()} == {"identified"}
    assert gaps["3"].title == "Saga Book 3"
    assert gaps["3"].primary_author == saga.primary_author
    assert list(gaps["3"].authors.all()) == [saga.primary_author]
    assert gaps["3"].position_label == "3"
    assert gaps["2.5"].sources == ["audnexus"]
    # Whole-numbered gaps first; the novella is low priority.
    assert {label: gap.priority for label, gap in gaps.items()} == {"2.5": 3, "3": 1, "7": 1, "8": 1}
    assert run.summary["series_checked"] == 1
    assert run.summary["gaps_new"] == 4
    saga.refresh_from_db()
    assert saga.total_known == 9
    assert saga.last_checked is not None
    assert saga.books_missing == 4
    assert saga.books_owned == 4
    assert saga.completion_percentage == Decimal("55.56")
    # The author's missing books are their open gaps too (series gaps count for their primary author).
    author = saga.primary_author
    author.refresh_from_db()
    assert (author.books_owned, author.books_missing, author.completion_percentage) == (4, 4, Decimal("50.00"))


def test_with_ignore_fractional_the_novella_is_no_gap(saga, settings):
    settings.GAPS_IGNORE_FRACTIONAL = True

    analyse()

    assert sorted(gaps_of(saga), key=Decimal) == ["3", "7", "8"]


def test_owning_book_3_resolves_its_gap_without_new_rows(saga):
    analyse()
    third = book_in(saga, "3", title="Saga Book 3")

    run = analyse()

    gap = gaps_of(saga)["3"]
    assert gap.status == "completed"
    assert gap.resolved_book == third
    assert gap.resolved_at is not None
    assert MissingBook.objects.count() == 4
    assert (run.summary["gaps_new"], run.summary["gaps_resolved"]) == (0, 1)
    assert open_positions(saga) == ["2.5", "7", "8"]
    saga.refresh_from_db()
    assert saga.books_missing == 3


def test_a_second_run_creates_no_duplicates(saga):
    first = analyse()
    ids = set(MissingBook.objects.values_list("id", flat=True))

    second = analyse(full=True)

    assert set(MissingBook.objects.values_list("id", flat=True)) == ids
    assert (second.summary["gaps_new"], second.summary["gaps_updated"]) == (0, 0)
    assert MissingBook.objects.filter(last_seen__gt=first.started_at).count() == 4


def test_an_omnibus_owns_every_position_it_covers(fake_registry, sanderson):
    series = SeriesFactory(name="Boxed", primary_author=sanderson)
    fake_registry.add_series("Boxed", [member(number) for number in range(1, 5)])
    book_in(series, "1-3")

    analyse()

    assert list(gaps_of(series)) == ["4"]


# --- policies ----------------------------------------------------------------------------------


def test_unpublished_books_are_low_priority_gaps_when_not_skipped(saga, settings):
    settings.GAPS_SKIP_UNRELEASED = False

    analyse()

    gap = gaps_of(saga)["9"]
    assert gap.priority == 3
    assert gap.published_date == FUTURE


def test_integer_holes_are_gaps_even_when_no_provider_knows_the_series(fake_registry, sanderson):
    series = SeriesFactory(name="Unknown To Providers", primary_author=sanderson)
    for label in ("1", "2", "4"):
        book_in(series, label)

    analyse()

    gaps = gaps_of(series)
    assert list(gaps) == ["3"]  # never past the highest owned position
    assert gaps["3"].title == "Unknown To Providers #3"
    assert gaps["3"].priority == 1
    assert gaps["3"].sources == []
    series.refresh_from_db()
    assert series.total_known is None


def test_without_integer_holes_only_known_positions_are_gaps(fake_registry, sanderson, settings):
    settings.GAPS_INTEGER_HOLES = False
    series = SeriesFactory(name="Unknown To Providers", primary_author=sanderson)
    for label in ("1", "2", "4"):
        book_in(series, label)

    analyse()

    assert gaps_of(series) == {}


def test_holes_reach_up_to_the_highest_known_position(fake_registry, sanderson):
    series = SeriesFactory(name="Sparse", primary_author=sanderson)
    fake_registry.add_series("Sparse", [member(1), member(5, "Fifth")])
    book_in(series, "1")

    analyse()

    gaps = gaps_of(series)
    assert sorted(gaps, key=Decimal) == ["2", "3", "4", "5"]
    assert gaps["5"].title == "Fifth"
    assert gaps["2"].title == "Sparse #2"


def test_a_numbering_too_sparse_to_believe_makes_no_holes(fake_registry, sanderson):
    series = SeriesFactory(name="Yearly", primary_author=sanderson)
    fake_registry.add_series("Yearly", [member(1), member(2019, "The 2019 Annual")])
    book_in(series, "1")

    analyse()

    assert list(gaps_of(series)) == ["2019"]


def test_a_hole_takes_the_title_a_provider_later_knows(fake_registry, sanderson):
    series = SeriesFactory(name="Sparse", primary_author=sanderson)
    for label in ("1", "3"):
        book_in(series, label)
    analyse()
    fake_registry.add_series("Sparse", [member(2, "The Middle One", isbn="0765326353")])

    run = analyse(full=True)

    gap = gaps_of(series)["2"]
    assert (gap.title, gap.isbn, gap.sources) == ("The Middle One", "9780765326355", ["hardcover"])
    assert run.summary["gaps_updated"] == 1
    assert MissingBook.objects.count() == 1


def test_the_language_filter_keeps_other_languages_out(fake_registry, sanderson, settings):
    settings.GAPS_LANGUAGES = ["en"]
    series = SeriesFactory(name="Polyglot", primary_author=sanderson)
    fake_registry.add_series(
        "Polyglot",
        [member(1), member(2, language="German"), member(3, language="English"), member(4, language="")],
    )
    book_in(series, "1")

    analyse()

    # 2 exists only in German: filtered out, and not an integer hole either.
    assert sorted(gaps_of(series), key=Decimal) == ["3", "4"]


def test_box_sets_in_provider_lists_are_not_positions(fake_registry, sanderson):
    series = SeriesFactory(name="Boxed", primary_author=sanderson)
    fake_registry.add_series("Boxed", [member(1), member(2), member("1-2", "Books 1-2 Box Set")])
    book_in(series, "1")

    analyse()

    assert list(gaps_of(series)) == ["2"]
    series.refresh_from_db()
    assert series.total_known == 2


# --- people's changes, reopening, forgotten positions -------------------------------------------


def test_a_persons_priority_and_ignore_survive_reanalysis(saga):
    analyse()
    third = gaps_of(saga)["3"]
    gap_update(gap=third, priority=3, status="ignored")

    analyse(full=True)

    third.refresh_from_db()
    assert (third.priority, third.status) == (3, "ignored")
    saga.refresh_from_db()
    assert saga.books_missing == 3  # an ignored gap is not missing


def test_a_resolved_gap_reopens_when_its_book_is_archived(saga):
    analyse()
    third = book_in(saga, "3")
    analyse()

    book_set_status(books=[third], status=BookStatus.ARCHIVED)
    run = analyse()

    gap = gaps_of(saga)["3"]
    assert (gap.status, gap.resolved_book, gap.resolved_at) == ("identified", None, None)
    assert run.summary["gaps_reopened"] == 1
    assert MissingBook.objects.count() == 4


def test_gaps_no_longer_known_stay_and_are_not_duplicated(saga, fake_registry):
    analyse()
    fake_registry.add_series("The Cosmere Saga", [member(number) for number in (1, 2, 3, 4, 5, 6, 7)])

    analyse(full=True)

    assert sorted(gaps_of(saga), key=Decimal) == ["2.5", "3", "7", "8"]


# --- incremental runs, selection, failures ------------------------------------------------------


def test_an_unchanged_series_is_skipped_until_it_changes_or_is_due(saga, fake_registry):
    analyse()
    fake_registry.calls.clear()

    quiet = analyse()
    assert (quiet.summary["series_checked"], quiet.summary["series_skipped"]) == (0, 1)
    assert quiet.skipped == 1
    assert fake_registry.calls == []

    book_in(saga, "7")
    changed = analyse()
    assert changed.summary["series_checked"] == 1
    assert open_positions(saga) == ["2.5", "3", "8"]

    Series.objects.filter(pk=saga.pk).update(last_checked=timezone.now() - timedelta(days=8))
    due = analyse()
    assert due.summary["series_checked"] == 1

    assert analyse(full=True).summary["series_checked"] == 1


def test_named_series_are_analysed_even_when_unchanged(saga):
    analyse()

    run = analyse(series_ids=[saga.id], author_ids=[])

    assert run.summary["series_checked"] == 1


def test_only_monitored_or_owned_series_are_analysed(fake_registry, sanderson):
    empty = SeriesFactory(name="Nothing Owned", primary_author=sanderson)
    followed = SeriesFactory(name="Followed", primary_author=sanderson, monitored=True)
    fake_registry.add_series("Nothing Owned", [member(1)])
    fake_registry.add_series("Followed", [member(1), member(2)])

    run = analyse()

    assert run.summary["series_checked"] == 1
    assert gaps_of(empty) == {}
    assert sorted(gaps_of(followed)) == ["1", "2"]


def test_unreachable_providers_leave_the_series_to_the_next_run(saga, fake_registry):
    fake_registry.down = ["hardcover", "openlibrary"]

    run = analyse()

    assert run.summary["series_unanswered"] == 1
    assert run.summary["degraded_providers"] == ["hardcover", "openlibrary"]
    saga.refresh_from_db()
    assert saga.last_checked is None
    assert saga.total_known is None
    assert list(gaps_of(saga)) == ["3"]  # the hole the owned books show; nothing the providers knew


def test_a_provider_error_costs_the_series_not_the_run(saga, fake_registry, monkeypatch, sanderson):
    other = SeriesFactory(name="Other", primary_author=sanderson)
    book_in(other, "2")

    def lookup(*, series_name, author="", providers=None):
        if series_name == "Other":
            raise ExternalApiError("Hardcover answered 500.", service="Hardcover")
        return fake_registry.__class__.lookup_series(fake_registry, series_name=series_name, author=author)

    monkeypatch.setattr("library.providers.registry.lookup_series", lookup)

    run = analyse()

    assert run.summary["series_failed"] == 1
    assert run.summary["series_checked"] == 1
    assert "Hardcover" in run.summary["degraded_providers"]
    assert run.failed == 1
    assert gaps_of(other) == {}
    assert len(gaps_of(saga)) == 4


def test_cancellation_is_checked_between_series(saga, monkeypatch):
    calls = []

    def cancel_on_first_check(self):
        calls.append(1)
        raise JobCancelled()

    monkeypatch.setattr(JobContext, "check_cancelled", cancel_on_first_check)

    run = job_run_now(name="gap_analysis", trigger=Trigger.COMMAND)

    assert run.status == RunStatus.CANCELLED
    assert calls == [1]
    assert MissingBook.objects.count() == 0
