"""The database counters cache increments atomically and honours expiry."""

import time

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.django_db


@pytest.fixture
def counters():
    return caches["counters"]


def test_count_starts_at_one_and_goes_up(counters):
    before = time.time()
    results = [counters.count("k", 60) for _ in range(3)]
    assert [count for count, _ in results] == [1, 2, 3]
    # The window opened at the first request and does not move with later ones.
    assert len({expires for _, expires in results}) == 1
    assert before + 59 < results[0][1] <= time.time() + 60


def test_an_expired_counter_restarts(counters):
    counters.count("k", 0.01)
    counters.count("k", 0.01)
    time.sleep(0.05)
    assert counters.count("k", 60)[0] == 1


def test_add_only_adds_once_and_incr_is_atomic(counters):
    assert counters.add("k", 0, 60) is True
    assert counters.add("k", 5, 60) is False
    assert counters.incr("k") == 1
    assert counters.incr("k", 2) == 3
    assert counters.get("k") == 3


def test_incr_of_a_missing_key_raises(counters):
    with pytest.raises(ValueError):
        counters.incr("missing")


def test_get_set_delete(counters):
    assert counters.get("k", "none") == "none"
    counters.set("k", 7, 60)
    assert counters.get("k") == 7
    assert counters.has_key("k")
    assert counters.delete("k") is True
    assert counters.get("k") is None


def test_purge_removes_only_expired_counters(counters):
    counters.purge_expired()  # what earlier tests left behind
    counters.count("old", 0.01)
    counters.count("fresh", 60)
    time.sleep(0.05)
    assert counters.purge_expired() == 1
    assert counters.get("fresh") == 1
