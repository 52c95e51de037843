"""``manage.py scan_library [PATH] [--dry-run]``: the library_scan job from a terminal."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from library.models import Book
from scheduler.choices import RunStatus, Trigger
from scheduler.models import JobRun
from tests.library.audio import write_mp3, write_mp4

pytestmark = pytest.mark.django_db


class TTY(StringIO):
    def isatty(self):
        return True


@pytest.fixture
def library(tmp_path, settings):
    root = tmp_path / "library"
    write_mp4(root / "Ursula K. Le Guin" / "Earthsea" / "01 - A Wizard of Earthsea.m4b", tags={"©mvn": "Earthsea"})
    for track in (1, 2):
        write_mp3(root / "Ursula K. Le Guin" / "The Dispossessed" / f"{track:02d}.mp3")
    settings.LIBRARY_ROOT = str(root)
    return root


def _run(*args, stdout=None) -> str:
    out = stdout or StringIO()
    call_command("scan_library", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_scans_the_library_and_prints_a_one_line_summary(library):
    output = _run()

    run = JobRun.objects.get()
    assert (run.job, run.trigger, run.status) == ("library_scan", Trigger.COMMAND, RunStatus.SUCCEEDED)
    [line] = output.strip().splitlines()
    assert line.startswith(f"library_scan #{run.pk} succeeded in ")
    assert "processed=2 succeeded=2 failed=0 skipped=0" in line
    assert '"created":2' in line
    assert set(Book.objects.values_list("title", flat=True)) == {"A Wizard of Earthsea", "The Dispossessed"}


def test_a_terminal_gets_a_progress_bar_over_the_files(library):
    output = _run(stdout=TTY())

    assert "3/3" in output and "100%" in output
    assert output.rstrip().splitlines()[-1].startswith("library_scan #")


def test_dry_run_writes_nothing(library):
    output = _run("--dry-run")

    assert '"dry_run":true' in output and '"created":2' in output
    assert JobRun.objects.get().params == {"dry_run": True}
    assert not Book.objects.exists()


def test_a_path_inside_the_root_limits_the_scan(library):
    _run(str(library / "Ursula K. Le Guin" / "Earthsea"))

    assert list(Book.objects.values_list("title", flat=True)) == ["A Wizard of Earthsea"]
    assert JobRun.objects.get().params == {"path": str(library / "Ursula K. Le Guin" / "Earthsea")}


def test_a_relative_path_is_read_from_the_root(library):
    _run("Ursula K. Le Guin/The Dispossessed")

    assert list(Book.objects.values_list("title", flat=True)) == ["The Dispossessed"]


@pytest.mark.parametrize("path", ["..", "/etc", "Ursula K. Le Guin/../../.."])
def test_a_path_outside_the_root_is_refused_before_any_run(library, path):
    with pytest.raises(CommandError, match="outside the library root"):
        _run(path)
    assert not JobRun.objects.exists()


def test_a_symlink_out_of_the_root_is_refused_as_a_path(library, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (library / "link").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(CommandError, match="outside the library root"):
        _run("link")


def test_a_path_that_is_not_a_folder_is_refused(library):
    with pytest.raises(CommandError, match="is not a directory"):
        _run("Ursula K. Le Guin/The Dispossessed/01.mp3")


def test_without_library_root_the_command_fails(settings):
    settings.LIBRARY_ROOT = ""

    with pytest.raises(CommandError, match="LIBRARY_ROOT is not set"):
        _run()


def test_a_failed_run_prints_its_summary_and_exits_non_zero(library):
    _run()
    for path in library.rglob("*.m*"):
        path.unlink()
    out = StringIO()

    with pytest.raises(CommandError, match="is the library mounted") as caught:
        _run(stdout=out)

    assert caught.value.returncode == 1
    assert out.getvalue().startswith("library_scan #")
    assert JobRun.objects.filter(status=RunStatus.FAILED).count() == 1
