"""sync_schedules: idempotent, env overrides, API changes survive, only our orphans go."""

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from scheduler.services import ENTRY, HEARTBEAT_NAME, job_update, schedules_sync
from scheduler.timing import parse_timing

pytestmark = pytest.mark.django_db


def test_a_second_sync_changes_nothing():
    schedules_sync()
    before = list(Schedule.objects.order_by("name").values())
    report = schedules_sync()
    assert report["created"] == report["updated"] == report["deleted"] == []
    assert list(Schedule.objects.order_by("name").values()) == before


def test_every_declared_job_and_the_heartbeat_are_scheduled():
    schedules_sync()
    cleanup = Schedule.objects.get(name="cleanup")
    assert (cleanup.func, cleanup.args, cleanup.schedule_type, cleanup.cron) == (
        ENTRY,
        "('cleanup',)",
        "C",
        "0 1 * * *",
    )
    assert cleanup.repeats == -1
    assert Schedule.objects.get(name=HEARTBEAT_NAME).minutes == 1


def test_an_environment_override_changes_the_schedule(settings):
    settings.JOB_SCHEDULE_OVERRIDES = {"cleanup": "6h"}
    schedules_sync()
    cleanup = Schedule.objects.get(name="cleanup")
    assert (cleanup.schedule_type, cleanup.minutes) == (Schedule.MINUTES, 360)


def test_off_in_the_environment_pauses_the_job(settings):
    settings.JOB_SCHEDULE_OVERRIDES = {"cleanup": "off"}
    schedules_sync()
    assert Schedule.objects.get(name="cleanup").repeats == 0


def test_an_api_change_wins_and_survives_a_resync(settings):
    settings.JOB_SCHEDULE_OVERRIDES = {"cleanup": "6h"}
    job_update(name="cleanup", schedule="30 5 * * *")
    call_command("sync_schedules", verbosity=0)
    assert Schedule.objects.get(name="cleanup").cron == "30 5 * * *"


def test_pausing_keeps_the_schedule_but_stops_repeats():
    job_update(name="cleanup", enabled=False)
    schedules_sync()
    assert Schedule.objects.get(name="cleanup").repeats == 0
    job_update(name="cleanup", enabled=True)
    assert Schedule.objects.get(name="cleanup").repeats == -1


def test_only_our_orphans_are_removed():
    Schedule.objects.create(name="retired_job", func=ENTRY, args="('retired_job',)", schedule_type="I", minutes=5)
    Schedule.objects.create(name="someone_elses", func="other.module.task", schedule_type="I", minutes=5)
    report = schedules_sync()
    assert report["deleted"] == ["retired_job"]
    assert Schedule.objects.filter(name="someone_elses").exists()


@pytest.mark.parametrize(
    ("text", "minutes", "cron"),
    [
        ("2m", 2, None),
        ("every 15 minutes", 15, None),
        ("6h", 360, None),
        ("1d", 1440, None),
        ("0 3 * * *", None, "0 3 * * *"),
    ],
)
def test_schedules_parse_as_interval_or_cron(text, minutes, cron):
    timing = parse_timing(text)
    assert (timing.minutes, timing.cron) == (minutes, cron)


@pytest.mark.parametrize("text", ["", "sometimes", "0 3 * *", "99 99 * * *", "0m", "40000m"])
def test_bad_schedules_are_refused(text):
    with pytest.raises(ValueError):
        parse_timing(text)


def test_a_schedule_overdue_by_days_starts_afresh_instead_of_replaying():
    from datetime import timedelta

    from django.utils import timezone

    schedules_sync()
    Schedule.objects.filter(name=HEARTBEAT_NAME).update(next_run=timezone.now() - timedelta(days=400))
    report = schedules_sync()
    assert HEARTBEAT_NAME in report["updated"]
    assert Schedule.objects.get(name=HEARTBEAT_NAME).next_run > timezone.now()


def test_inline_runs_do_not_pretend_a_worker_is_alive():
    from scheduler.models import WorkerHeartbeat
    from scheduler.runner import job_run_now

    job_run_now(name="cleanup", trigger="command")
    assert not WorkerHeartbeat.objects.exists()
