"""Throttle tiers: budgets per principal, shared counters, 429 in the error shape, headers."""

import pytest

from mamcrawler.api.throttling import TIERS, parse_rate
from tests.factories import UserFactory


@pytest.fixture
def tight_rates(settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "read": "3/minute", "write": "2/minute"}


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("60/minute", (60, 60)), ("20/hour", (20, 3600)), ("5/second", (5, 1)), ("100/day", (100, 86400))],
)
def test_rates_parse_into_requests_and_seconds(rate, expected):
    assert parse_rate(rate) == expected


def test_a_bad_rate_is_refused():
    with pytest.raises(ValueError):
        parse_rate("lots/minute")


def test_there_are_eight_tiers():
    assert sorted(TIERS) == sorted(["public", "read", "write", "download", "metadata", "search", "admin", "upload"])


def test_reads_are_limited_per_user_and_answer_429_with_retry_after(tight_rates, viewer_client):
    statuses = [viewer_client.get("/api/v1/books/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = viewer_client.get("/api/v1/books/")
    body = response.json()
    assert body["error"] == "rate_limit_exceeded"
    assert body["status_code"] == 429
    retry_after = body["context"]["retry_after"]
    assert 1 <= retry_after <= 60
    assert response["Retry-After"] == str(retry_after)
    assert response["X-RateLimit-Limit"] == "3"
    assert response["X-RateLimit-Remaining"] == "0"


def test_successful_responses_carry_rate_limit_headers(tight_rates, viewer_client):
    response = viewer_client.get("/api/v1/books/")
    assert response["X-RateLimit-Limit"] == "3"
    assert response["X-RateLimit-Remaining"] == "2"
    assert int(response["X-RateLimit-Reset"]) > 0


def test_each_principal_has_its_own_budget(tight_rates, viewer_client, api_client):
    for _ in range(3):
        viewer_client.get("/api/v1/books/")
    assert viewer_client.get("/api/v1/books/").status_code == 429
    other = UserFactory(username="other-reader")
    api_client.force_authenticate(other)
    assert api_client.get("/api/v1/books/").status_code == 200


def test_api_keys_are_counted_by_key(tight_rates, viewer_user, api_key_client):
    first = api_key_client(viewer_user)
    second = api_key_client(viewer_user)
    for _ in range(3):
        assert first.get("/api/v1/books/").status_code == 200
    assert first.get("/api/v1/books/").status_code == 429
    assert second.get("/api/v1/books/").status_code == 200


def test_reads_and_writes_have_separate_budgets(tight_rates, editor_client):
    for _ in range(3):
        editor_client.get("/api/v1/books/")
    assert editor_client.get("/api/v1/books/").status_code == 429
    response = editor_client.post("/api/v1/authors/", {"name": "Fresh Writer"}, format="json")
    assert response.status_code != 429
    assert response["X-RateLimit-Limit"] == "2"


def test_search_has_its_own_tier_from_the_environment_setting(settings, viewer_client, api_client):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "search": "3/minute"}
    statuses = [viewer_client.get("/api/v1/books/search/", {"q": "dune"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert 1 <= viewer_client.get("/api/v1/books/search/", {"q": "x"}).json()["context"]["retry_after"] <= 60
    # Plain reads are a different tier and still answer.
    assert viewer_client.get("/api/v1/books/").status_code == 200
    api_client.force_authenticate(UserFactory(username="second-reader"))
    assert api_client.get("/api/v1/books/search/", {"q": "dune"}).status_code == 200


def test_an_hourly_tier_announces_the_real_wait(settings, rf, viewer_user):
    from rest_framework.request import Request

    from mamcrawler.api.throttling import DownloadThrottle

    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "download": "2/hour"}
    request = Request(rf.post("/api/v1/downloads/queue/"))
    request.user = viewer_user
    outcomes = []
    for _ in range(3):
        throttle = DownloadThrottle()
        outcomes.append(throttle.allow_request(request, None))
    assert outcomes == [True, True, False]
    assert 3500 < throttle.wait() <= 3600


@pytest.fixture
def redis_counters(settings):
    """The counters cache on the local Redis (as with REDIS_URL set), isolated by a key prefix."""
    import uuid

    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = {
        **settings.CACHES,
        "counters": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        },
    }


def test_with_redis_the_budget_and_the_real_wait_hold(redis_counters, tight_rates, viewer_client):
    statuses = [viewer_client.get("/api/v1/books/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert 1 <= viewer_client.get("/api/v1/books/").json()["context"]["retry_after"] <= 60


def test_with_redis_the_window_expires_with_its_counter(redis_counters, tight_rates, viewer_client):
    from django.core.cache import caches

    viewer_client.get("/api/v1/books/")

    counters = caches["counters"]
    client = counters._cache.get_client(None, write=False)
    keys = client.keys(f"{counters.key_prefix}*")
    assert len(keys) == 2  # the count and the time its window opened
    assert all(0 < client.ttl(key) <= 60 for key in keys)
