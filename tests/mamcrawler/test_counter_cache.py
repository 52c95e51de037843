"""The SQL counters cache increments atomically and honours expiry, in the database or its own file."""

import multiprocessing
import time

import pytest
from django.core.cache import caches

from mamcrawler.system.cache import CounterCache

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", "own file"])
def counters(request, tmp_path):
    if request.param == "database":
        return caches["counters"]
    return CounterCache(str(tmp_path / "counters.sqlite3"), {})


def _count_in_a_process(path: str, times: int, queue) -> None:
    store = CounterCache(path, {})
    queue.put([store.count("shared", 60)[0] for _ in range(times)])


def test_processes_counting_in_the_file_never_lose_or_repeat_a_count(tmp_path):
    path = str(tmp_path / "counters.sqlite3")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_count_in_a_process, args=(path, 150, queue)) for _ in range(3)]
    for worker in workers:
        worker.start()
    counts = sorted(count for _ in workers for count in queue.get(timeout=60))
    for worker in workers:
        worker.join(timeout=30)

    assert counts == list(range(1, 451))


def test_the_file_store_opens_its_own_connection_after_a_fork(tmp_path):
    store = CounterCache(str(tmp_path / "counters.sqlite3"), {})
    store.count("k", 60)
    inherited = store._file._local.connection
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def in_the_child():
        count = store.count("k", 60)[0]
        queue.put((count, store._file._local.connection is inherited))

    child = context.Process(target=in_the_child)
    child.start()
    child.join(timeout=30)

    assert queue.get(timeout=5) == (2, False)  # SQLite connections must not cross a fork
    assert store.count("k", 60)[0] == 3


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
