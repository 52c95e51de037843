"""Audiobookshelf failing under the ``abs_sync`` job.

The library list failing fails the run with a readable error and imports nothing; one
library's items failing is recorded while the other library is imported.  The next run
against a healthy server imports the rest, and a third changes nothing (no duplicates).
"""

from __future__ import annotations

import pytest

from library.integrations import base
from library.models import Book
from scheduler.choices import RunStatus, Trigger
from scheduler.runner import job_run_now
from tests.faults.faults import CLIENT_TIMEOUT, MODES, RETRY_AFTER, heal, inject, readable
from tests.library.abs_fake import API_KEY, fake_server, running_fake

pytestmark = pytest.mark.django_db

ERRORS = {
    "timeout": "timed out",
    "500": "HTTP 500",
    "429": "HTTP 429",
    "html": "not JSON (text/html",
    "truncated": "not JSON (application/json",
}


@pytest.fixture(scope="module")
def abs_server():
    with fake_server() as server:
        yield server


@pytest.fixture
def sleeps(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(base, "_sleep", waits.append)
    return waits


@pytest.fixture
def audiobookshelf(settings, abs_server, sleeps):
    with running_fake(settings, abs_server, items=20, libraries=2) as fake:
        settings.ABS_TIMEOUT = CLIENT_TIMEOUT
        settings.ABS_RETRIES = 1
        settings.ABS_PAGE_SIZE = 5
        yield fake


def sync():
    return job_run_now(name="abs_sync", trigger=Trigger.COMMAND)


def outcomes(run) -> tuple:
    return tuple(run.summary[key] for key in ("created", "updated", "unchanged", "failed"))


@pytest.mark.parametrize("mode", MODES)
def test_a_failing_library_list_fails_the_sync_and_the_next_run_imports_everything(
    audiobookshelf, abs_server, sleeps, mode
):
    inject(abs_server, r"^/api/libraries$", mode)

    failed = sync()

    assert failed.status == RunStatus.FAILED
    assert failed.error.startswith("Audiobookshelf: ") and ERRORS[mode] in failed.error
    assert readable(failed.error, API_KEY) and readable(failed.log_tail, API_KEY)
    assert Book.objects.count() == 0
    if mode == "429":
        assert sleeps == [float(RETRY_AFTER)]

    heal(abs_server)
    healthy = sync()

    assert healthy.status == RunStatus.SUCCEEDED, healthy.error
    assert outcomes(healthy) == (20, 0, 0, 0) and Book.objects.count() == 20


@pytest.mark.parametrize("mode", MODES)
def test_one_failing_library_is_recorded_the_other_imported_and_the_next_run_completes(
    audiobookshelf, abs_server, mode
):
    inject(abs_server, r"^/api/libraries/lib_2/items$", mode)

    failed = sync()

    assert failed.status == RunStatus.SUCCEEDED, failed.error
    assert failed.failed == 1 and Book.objects.count() == 10
    (error,) = failed.summary["errors"]
    assert error["library"] == "lib_2" and ERRORS[mode] in error["error"]
    assert readable(error["error"], API_KEY) and readable(failed.log_tail, API_KEY)
    assert failed.summary["not_in_abs"] is None  # nothing is archived while a library was not read whole

    heal(abs_server)
    healthy = sync()
    again = sync()

    assert outcomes(healthy) == (10, 0, 10, 0)
    assert outcomes(again) == (0, 0, 20, 0) and Book.objects.count() == 20
