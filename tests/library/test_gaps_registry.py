"""Gap analysis through the real provider registry and its ProviderCache (SPEC §7.1, §7.3).

The four metadata services are fakes on 127.0.0.1 (``provider_fakes``) serving the Stormlight
Archive (1, 2, 2.5, 3, 4).  When every service is down, a rerun finds the same gaps from the
cache and records the degraded providers.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from library.models import MissingBook, ProviderCache
from library.positions import format_position
from library.services.books import book_create, series_ref
from scheduler.choices import RunStatus, Trigger
from scheduler.runner import job_run_now
from tests.factories import AuthorFactory, SeriesFactory
from tests.library.provider_fakes import ALWAYS, PREFIXES, SERIES, fake_server, running_fake

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def server():
    with fake_server() as server:
        yield server


@pytest.fixture
def providers(settings, server):
    with running_fake(settings, server) as fake:
        yield fake


@pytest.fixture
def stormlight():
    author = AuthorFactory(name="Brandon Sanderson", monitored=True)
    series = SeriesFactory(name=SERIES, primary_author=author)
    for label, title in (("1", "The Way of Kings"), ("3", "Oathbringer")):
        book_create(fields={"title": title}, authors=[author], series=[series_ref(series, label)])
    return series


def analyse(**params):
    run = job_run_now(name="gap_analysis", trigger=Trigger.COMMAND, params=params)
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


def gap_positions() -> list[str]:
    return [format_position(p) for p in MissingBook.objects.order_by("position").values_list("position", flat=True)]


def test_providers_down_give_the_same_gaps_from_the_cache_and_say_so(providers, stormlight):
    first = analyse()

    assert gap_positions() == ["2", "2.5", "4"]
    titles = dict(MissingBook.objects.values_list("position_label", "title"))
    assert titles == {"2": "Words of Radiance", "2.5": "Edgedancer", "4": "Rhythm of War"}
    # The author's other books are all series gaps or owned: no author gaps.
    assert not MissingBook.objects.filter(reason="author_gap").exists()
    assert first.summary["degraded_providers"] == []
    stormlight.refresh_from_db()
    assert stormlight.total_known == 4
    rows = set(MissingBook.objects.values_list("id", flat=True))

    # Every service fails from now on, and every cached answer has expired.
    for service in PREFIXES:
        providers.fail(service, 500, times=ALWAYS)
    ProviderCache.objects.update(expires_at=timezone.now() - timedelta(days=1))

    second = analyse(full=True)

    assert gap_positions() == ["2", "2.5", "4"]
    assert set(MissingBook.objects.values_list("id", flat=True)) == rows
    assert second.summary["gaps_new"] == 0
    assert {"hardcover", "openlibrary"} <= set(second.summary["degraded_providers"])
    assert "hardcover" in second.summary["providers_from_cache"]
    assert second.summary["series_unanswered"] == 0
    stormlight.refresh_from_db()
    assert stormlight.total_known == 4


def test_without_a_cache_a_dead_provider_leaves_the_series_for_the_next_run(providers, stormlight):
    for service in PREFIXES:
        providers.fail(service, 500, times=ALWAYS)

    run = analyse()

    assert run.summary["series_unanswered"] == 1
    assert run.summary["authors_unanswered"] == 1
    assert {"hardcover", "openlibrary"} <= set(run.summary["degraded_providers"])
    assert gap_positions() == ["2"]  # only the integer hole between the owned 1 and 3
    stormlight.refresh_from_db()
    assert stormlight.last_checked is None
