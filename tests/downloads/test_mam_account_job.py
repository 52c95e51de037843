"""The ``mam_account`` job and ``manage.py mam_account``."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from downloads.guard import AccountState
from downloads.models import MamAccountSnapshot, MamSession
from scheduler import schedules
from scheduler.choices import RunStatus, Trigger
from scheduler.runner import job_run_now
from tests.downloads import mam_fake

pytestmark = pytest.mark.django_db


@pytest.fixture
def mam(settings, httpserver):
    mam_fake.configure(settings, httpserver)
    return httpserver


def test_the_job_is_declared_hourly_when_a_session_is_configured(settings):
    job = schedules.get_job("mam_account")

    assert job.default_schedule == "1h"
    assert job.load().__name__ == "mam_account_run"
    settings.MAM_SESSION_ID = ""
    assert job.condition() is False
    settings.MAM_SESSION_ID = "cookie"
    assert job.condition() is True


def test_the_job_stores_a_snapshot(mam):
    mam.expect_request("/jsonLoad.php").respond_with_json(mam_fake.account_body(wedges=4))

    run = job_run_now(name="mam_account", trigger=Trigger.API)

    assert run.status == RunStatus.SUCCEEDED
    snapshot = MamAccountSnapshot.objects.get()
    assert (snapshot.username, snapshot.wedges, snapshot.unsat_count, snapshot.unsat_limit) == ("reader", 4, 7, 50)
    assert run.summary["snapshot"] == snapshot.pk
    assert run.summary["unsat"] == "7/50"
    state = AccountState.from_snapshot(snapshot, downloads_today=2)
    assert (state.wedges, state.downloads_today, state.is_vip) == (4, 2, False)


def test_an_expired_session_fails_the_run_with_a_clear_error(mam):
    mam.expect_request("/jsonLoad.php").respond_with_data("", status=302, headers={"Location": "/login.php"})

    run = job_run_now(name="mam_account", trigger=Trigger.API)

    assert run.status == RunStatus.FAILED
    assert "session expired" in run.error
    assert MamAccountSnapshot.objects.count() == 0
    assert MamSession.load().expired


def test_the_command_runs_the_job(mam):
    mam.expect_request("/jsonLoad.php").respond_with_json(mam_fake.account_body())
    out = StringIO()

    call_command("mam_account", stdout=out)

    assert "mam_account #" in out.getvalue()
    assert "succeeded" in out.getvalue()
    assert MamAccountSnapshot.objects.count() == 1


def test_the_command_fails_on_an_expired_session(mam):
    mam.expect_request("/jsonLoad.php").respond_with_data("no", status=403)

    with pytest.raises(CommandError, match="session expired"):
        call_command("mam_account", stdout=StringIO())
