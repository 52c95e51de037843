"""``manage.py analyze_gaps``: the gap_analysis job as a command."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from library.models import MissingBook
from library.services.books import book_create, series_ref
from scheduler.models import JobRun
from tests.factories import AuthorFactory, SeriesFactory
from tests.library.gaps_fake import install, member, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_registry(monkeypatch):
    return install(monkeypatch)


def run(*args) -> str:
    out = StringIO()
    call_command("analyze_gaps", *args, stdout=out)
    return out.getvalue()


def test_it_analyses_everything_and_prints_the_summary(fake_registry):
    author = AuthorFactory(name="Brandon Sanderson", monitored=True)
    series = SeriesFactory(name="Saga", primary_author=author)
    book_create(fields={"title": "One"}, authors=[author], series=[series_ref(series, "1")])
    fake_registry.add_series("Saga", [member(1), member(2)])
    fake_registry.add_author("Brandon Sanderson", [record("Elantris")])

    output = run()

    job = JobRun.objects.get()
    assert (job.job, job.trigger, job.status, job.params) == ("gap_analysis", "command", "succeeded", {})
    assert f"gap_analysis #{job.pk} succeeded" in output
    assert '"gaps_new":2' in output
    assert sorted(MissingBook.objects.values_list("reason", flat=True)) == ["author_gap", "series_gap"]


def test_named_series_and_authors_limit_the_run(fake_registry):
    author = AuthorFactory(monitored=True)
    series = SeriesFactory(primary_author=author)

    run("--series", str(series.id), "--series", str(series.id), "--full")
    assert JobRun.objects.get().params == {"series_ids": [series.id], "author_ids": [], "full": True}

    JobRun.objects.all().delete()
    run("--author", str(author.id))
    assert JobRun.objects.get().params == {"series_ids": [], "author_ids": [author.id]}


def test_unknown_ids_are_refused_before_a_run_is_recorded():
    with pytest.raises(CommandError, match="--series: no series with id 999"):
        run("--series", "999")
    with pytest.raises(CommandError, match="--author: no author with id 998"):
        run("--author", "998")
    assert not JobRun.objects.exists()


def test_a_run_already_in_progress_is_a_command_error():
    JobRun.objects.create(job="gap_analysis", trigger="api")

    with pytest.raises(CommandError, match="already running"):
        run()
