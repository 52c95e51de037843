"""Provider failures: retries (429 with Retry-After, 5xx), timeouts and garbage fall back to the cache;
the circuit breaker skips a failing provider and a half-open trial closes it again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from library.integrations import base
from library.models import ProviderCache, ProviderState
from library.providers.circuit import circuit_allows, circuit_state
from library.providers.registry import lookup_book, lookup_series, providers_status
from tests.library.provider_fakes import ALWAYS, SERIES, fake_server, running_fake

pytestmark = pytest.mark.django_db
ISBN = "9780765326355"
OL = ["openlibrary"]


@pytest.fixture(scope="module")
def provider_server():
    with fake_server() as server:
        yield server


@pytest.fixture
def sleeps(monkeypatch):
    """The waits between attempts, recorded instead of slept."""
    waits = []
    monkeypatch.setattr(base, "_sleep", waits.append)
    return waits


@pytest.fixture
def fake(settings, provider_server, sleeps):
    with running_fake(settings, provider_server) as fake:
        yield fake


def _stale_series_row():
    """A Hardcover answer cached long ago and expired: one member at position 7."""
    payload = {
        "series": [
            {
                "id": 997,
                "name": SERIES,
                "books_count": 1,
                "book_series": [{"position": 7, "book": {"id": 9, "title": "Cached Book", "contributions": []}}],
            }
        ]
    }
    long_ago = timezone.now() - timedelta(days=60)
    return ProviderCache.objects.create(
        provider="hardcover",
        key="series:the stormlight archive|",
        payload=payload,
        fetched_at=long_ago,
        expires_at=long_ago + timedelta(days=30),
    )


# --- retries ---------------------------------------------------------------------------------


def test_a_429_is_retried_after_the_time_retry_after_asks_for(fake, sleeps):
    fake.fail("hardcover", 429, retry_after=1)

    lookup = lookup_book(isbn=ISBN, providers=["hardcover"])

    assert [record.title for record in lookup.records] == ["The Way of Kings"]
    assert lookup.degraded == []
    assert sleeps == [1.0]
    assert fake.count("hardcover") == 2


def test_a_retry_after_beyond_the_limit_is_not_waited_for(fake, sleeps):
    fake.fail("hardcover", 429, retry_after=3600)

    lookup = lookup_book(isbn=ISBN, providers=["hardcover"])

    assert (lookup.records, lookup.degraded) == ([], ["hardcover"])
    assert sleeps == []
    assert fake.count("hardcover") == 1


def test_a_5xx_is_retried_with_a_short_backoff(fake, sleeps):
    fake.fail("openlibrary", 500)

    lookup = lookup_book(isbn=ISBN, providers=OL)

    assert [record.title for record in lookup.records] == ["The Way of Kings"]
    assert lookup.degraded == []
    assert len(sleeps) == 1 and sleeps[0] <= 0.001
    assert ProviderState.objects.get(provider="openlibrary").failures == 0


def test_a_timeout_falls_back_to_the_stale_cache(fake):
    stale = _stale_series_row()
    fake.fail("hardcover", "timeout", times=ALWAYS)

    lookup = lookup_series(series_name=SERIES, providers=["hardcover"])

    assert [(member.position_label, member.title) for member in lookup.records] == [("7", "Cached Book")]
    assert (lookup.degraded, lookup.from_cache) == (["hardcover"], ["hardcover"])
    assert "timed out" in lookup.errors["hardcover"]
    assert fake.count("hardcover") == 3  # the first try and two retries
    stale.refresh_from_db()
    assert stale.expires_at < timezone.now()  # a failure does not refresh the row


def test_a_body_that_is_not_json_is_a_failure(fake):
    fake.fail("openlibrary", "garbage")

    lookup = lookup_book(title="Oathbringer", providers=OL)

    assert (lookup.records, lookup.degraded, lookup.from_cache) == ([], ["openlibrary"], [])
    assert "not JSON" in ProviderState.objects.get(provider="openlibrary").last_error
    assert not ProviderCache.objects.exists()


def test_json_of_an_unexpected_shape_is_a_failure_and_is_not_cached(fake):
    fake.fail("googlebooks", "shape")

    lookup = lookup_book(title="Oathbringer", providers=["googlebooks"])

    assert (lookup.records, lookup.degraded) == ([], ["googlebooks"])
    assert "unexpected shape" in lookup.errors["googlebooks"]
    assert not ProviderCache.objects.exists()


def test_a_failing_provider_does_not_stop_the_next_one(fake):
    fake.fail("hardcover", 503, times=ALWAYS)

    lookup = lookup_book(isbn=ISBN, providers=["hardcover", "openlibrary"])

    assert [record.provider for record in lookup.records] == ["openlibrary"]
    assert lookup.degraded == ["hardcover"]


def test_after_one_failure_a_provider_is_not_asked_again_in_the_same_lookup(fake):
    fake.fail("openlibrary", 503, times=ALWAYS)

    lookup = lookup_book(isbn=ISBN, title="The Way of Kings", providers=OL)

    assert lookup.degraded == ["openlibrary"]
    assert fake.count("openlibrary") == 3  # the ISBN question and its retries; no search after it
    assert ProviderState.objects.get(provider="openlibrary").failures == 1


# --- the circuit breaker -------------------------------------------------------------------


def _fail_until_open(fake, settings):
    fake.fail("hardcover", 500, times=ALWAYS)
    for _ in range(settings.CIRCUIT_FAILURES):
        assert lookup_series(series_name=SERIES, providers=["hardcover"]).degraded == ["hardcover"]


def test_the_circuit_opens_after_consecutive_failures_and_skips_the_provider(fake, settings, provider_server):
    _stale_series_row()
    _fail_until_open(fake, settings)
    state = ProviderState.objects.get(provider="hardcover")
    assert circuit_state(state) == "open"
    assert (state.consecutive_failures, state.failures, state.requests) == (3, 3, 3)
    assert state.opened_until > timezone.now() + timedelta(seconds=290)

    seen = len(provider_server.log)
    lookup = lookup_series(series_name=SERIES, providers=["hardcover"])

    assert len(provider_server.log) == seen  # nothing reached the server
    assert (lookup.degraded, lookup.from_cache) == (["hardcover"], ["hardcover"])
    assert [member.title for member in lookup.records] == ["Cached Book"]
    assert "circuit open" in lookup.errors["hardcover"]
    (status,) = [row for row in providers_status() if row["name"] == "hardcover"]
    assert (status["circuit"], status["opened_until"]) == ("open", state.opened_until)


def test_a_successful_half_open_trial_closes_the_circuit(fake, settings, provider_server):
    _fail_until_open(fake, settings)
    ProviderState.objects.filter(provider="hardcover").update(opened_until=timezone.now() - timedelta(seconds=1))
    fake.fail("hardcover", 500, times=0)
    (status,) = [row for row in providers_status() if row["name"] == "hardcover"]
    assert status["circuit"] == "half_open"

    seen = fake.count("hardcover")
    lookup = lookup_series(series_name=SERIES, providers=["hardcover"])

    assert fake.count("hardcover") == seen + 1
    assert lookup.degraded == [] and len(lookup.records) == 5
    state = ProviderState.objects.get(provider="hardcover")
    assert (circuit_state(state), state.consecutive_failures, state.opened_until) == ("closed", 0, None)
    assert state.last_success_at is not None


def test_a_failed_half_open_trial_opens_the_circuit_again(fake, settings):
    _fail_until_open(fake, settings)
    ProviderState.objects.filter(provider="hardcover").update(opened_until=timezone.now() - timedelta(seconds=1))

    lookup = lookup_series(series_name=SERIES, providers=["hardcover"])

    assert lookup.degraded == ["hardcover"]
    state = ProviderState.objects.get(provider="hardcover")
    assert circuit_state(state) == "open"
    assert state.consecutive_failures == 4


def test_only_one_caller_gets_the_half_open_trial(db, settings):
    ProviderState.objects.create(
        provider="openlibrary", consecutive_failures=5, opened_until=timezone.now() - timedelta(seconds=1)
    )

    assert circuit_allows("openlibrary") is True
    assert circuit_allows("openlibrary") is False  # another worker, while the trial runs


def test_a_success_resets_the_consecutive_failures(fake, settings):
    fake.fail("openlibrary", 500, times=3)  # one lookup's three attempts
    lookup_book(isbn=ISBN, providers=OL)
    lookup_book(isbn="9780765326362", providers=OL)

    state = ProviderState.objects.get(provider="openlibrary")
    assert (state.requests, state.failures, state.consecutive_failures) == (2, 1, 0)
    assert state.last_failure_at < state.last_success_at
