"""The daily ``backup`` job, its command and its admin endpoint."""

import zipfile

import pytest
from django.core.management import call_command

from scheduler.models import JobRun
from scheduler.schedules import JOBS

URL = "/api/v1/admin/maintenance/backup/"


@pytest.fixture
def backup_dir(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_KEEP = 2
    return settings.BACKUP_DIR


def archives(directory):
    return sorted(path.name for path in directory.glob("*.zip"))


def test_the_job_is_declared_daily_after_cleanup():
    names = list(JOBS)
    assert names[names.index("cleanup") + 1] == "backup"
    assert JOBS["backup"].default_schedule == "30 0 * * *"


def test_the_job_keeps_only_the_newest_backup_keep_archives(instance, backup_dir):
    backup_dir.mkdir()
    (backup_dir / "notes.txt").write_text("mine")
    made = []
    for _ in range(3):
        call_command("backup")
        made.append(JobRun.objects.filter(job="backup").latest("id").summary["archive"])

    assert archives(backup_dir) == sorted(name.rsplit("/", 1)[1] for name in made[1:])
    assert (backup_dir / "notes.txt").read_text() == "mine"
    assert not list(backup_dir.glob("*.partial"))
    run = JobRun.objects.filter(job="backup").latest("id")
    assert run.status == "succeeded" and run.trigger == "command"
    assert run.summary["pruned"] == [made[0].rsplit("/", 1)[1]]
    assert run.summary["rows"] == run.processed > 0


def test_output_writes_elsewhere_and_prunes_nothing(instance, backup_dir, tmp_path, capsys):
    backup_dir.mkdir()
    for name in ("mamcrawler-backup-20200101-000000-000000.zip", "mamcrawler-backup-20200102-000000-000000.zip"):
        (backup_dir / name).write_bytes(b"old")
    target = tmp_path / "mine.zip"

    call_command("backup", "--output", str(target), "--with-cache")

    assert len(archives(backup_dir)) == 2
    assert "data/library.providercache.jsonl" in zipfile.ZipFile(target).namelist()
    assert "backup #" in capsys.readouterr().out


def test_an_admin_runs_a_backup_and_waits_for_it(instance, backup_dir, admin_client):
    response = admin_client.post(f"{URL}?wait=true")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["job"] == "backup" and body["status"] == "succeeded"
    assert archives(backup_dir) == [body["summary"]["archive"].rsplit("/", 1)[1]]


def test_without_wait_the_run_is_queued(instance, backup_dir, admin_client):
    response = admin_client.post(URL)

    assert response.status_code == 202
    assert response.json()["status"] == "queued"


def test_only_admins_may_back_up(editor_client, backup_dir):
    assert editor_client.post(URL).status_code == 403
    assert not backup_dir.exists()
