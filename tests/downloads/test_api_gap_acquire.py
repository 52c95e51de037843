"""Acquisition from the gaps API: ``gaps/{id}/search/``, ``gaps/{id}/acquire/``, ``gaps/acquire/``, and a
gap's ``download`` field (SPEC §4 Gaps, §4.1 Candidate, §8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from downloads.models import Download, DownloadStatus
from library.models import MissingBook
from mamcrawler.api.throttling import TieredThrottleMixin
from scheduler.models import JobRun
from tests.downloads import mam_fake
from tests.downloads.api_fakes import (
    SEARCH,
    healthy_account,
    low_ratio_account,
    serve_search,
    serve_torrent,
    stormlight_gap,
)
from tests.downloads.factories import DownloadFactory

pytestmark = pytest.mark.django_db

CANDIDATE = {
    "mam_torrent_id",
    "title",
    "authors",
    "narrators",
    "series",
    "position",
    "format",
    "size_bytes",
    "seeders",
    "language",
    "is_free",
    "is_vip",
    "is_bundle",
    "score",
    "reasons",
    "cost",
    "allowed",
    "hold_reason",
}


@pytest.fixture
def mam(settings, httpserver):
    mam_fake.configure(settings, httpserver)
    return httpserver


def search_url(gap) -> str:
    return f"/api/v1/gaps/{gap.id}/search/"


def acquire_url(gap) -> str:
    return f"/api/v1/gaps/{gap.id}/acquire/"


# --- search --------------------------------------------------------------------------------------


def test_search_ranks_candidates_with_reasons_and_cost_and_never_shows_dl(viewer_client, mam):
    healthy_account()
    gap = stormlight_gap()
    serve_search(
        mam,
        mam_fake.row(301, "The Way of Kings", seeders=0),  # nobody seeds it: rejected
        mam_fake.row(302, "The Way of Kings", free=1),
        mam_fake.row(303, "The Stormlight Archive Collection Books 1-4", numfiles=400),  # a bundle
    )

    response = viewer_client.get(search_url(gap))

    assert response.status_code == 200, response.json()
    candidates = response.json()
    assert [c["mam_torrent_id"] for c in candidates][0] == 302
    best = candidates[0]
    assert set(best) >= CANDIDATE
    assert (best["cost"], best["is_free"], best["allowed"], best["hold_reason"]) == ("free", True, True, "")
    assert best["reasons"] and all(isinstance(points, int) for points in best["reasons"].values())
    assert best["series"] == [{"name": "The Stormlight Archive", "position": "1"}]
    assert {c["mam_torrent_id"] for c in candidates[1:]} == {301, 303}
    assert all(c["rejected"] for c in candidates[1:])
    assert all("dl" not in c for c in candidates)
    assert "dlhash" not in response.content.decode()


def test_search_shows_the_guards_hold_reason_for_a_paid_candidate(viewer_client, mam):
    low_ratio_account()
    gap = stormlight_gap()
    serve_search(mam, mam_fake.row(401, size="2 GiB"))

    [candidate] = viewer_client.get(search_url(gap)).json()

    assert (candidate["cost"], candidate["allowed"]) == ("ratio", False)
    assert "below 1.5" in candidate["hold_reason"]


def test_search_records_the_best_candidate_on_the_gap_without_its_token(viewer_client, mam):
    healthy_account()
    gap = stormlight_gap()
    serve_search(mam, mam_fake.row(302, free=1))

    viewer_client.get(search_url(gap))

    gap.refresh_from_db()
    assert gap.status == "found"
    body = viewer_client.get(f"/api/v1/gaps/{gap.id}/").json()
    assert body["best_candidate"]["mam_torrent_id"] == 302
    assert "dl" not in body["best_candidate"]


def test_search_with_no_results_is_an_empty_list(viewer_client, mam):
    gap = stormlight_gap()
    mam.expect_request(SEARCH, method="POST").respond_with_json(mam_fake.NOTHING)

    response = viewer_client.get(search_url(gap))

    assert (response.status_code, response.json()) == (200, [])
    gap.refresh_from_db()
    assert gap.status == "not_found"


def test_an_expired_mam_session_is_502(viewer_client, mam):
    gap = stormlight_gap()
    mam.expect_request(SEARCH, method="POST").respond_with_data("<html>login</html>", content_type="text/html")

    response = viewer_client.get(search_url(gap))

    assert response.status_code == 502
    assert response.json()["error"] == "external_api_error"


def test_search_of_an_unknown_gap_is_404(viewer_client):
    assert viewer_client.get("/api/v1/gaps/999999/search/").status_code == 404


def test_search_needs_authentication(api_client):
    assert api_client.get("/api/v1/gaps/1/search/").status_code == 401


# --- acquire one gap ---------------------------------------------------------------------------------


def test_acquire_queues_the_best_free_candidate(editor_client, mam):
    low_ratio_account()  # free torrents are allowed whatever the ratio
    gap = stormlight_gap()
    serve_search(mam, mam_fake.row(501, free=1))
    serve_torrent(mam, 501, mam_fake.torrent_bytes())

    response = editor_client.post(acquire_url(gap))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["missing_book"], body["mam_torrent_id"], body["is_free"]) == (
        "queued",
        gap.id,
        501,
        True,
    )
    gap.refresh_from_db()
    assert gap.status == "queued"
    assert editor_client.get(f"/api/v1/gaps/{gap.id}/").json()["download"] == body["id"]


def test_acquire_holds_a_paid_candidate_when_the_ratio_is_low(editor_client, mam):
    low_ratio_account()
    gap = stormlight_gap()
    serve_search(mam, mam_fake.row(502))
    serve_torrent(mam, 502, mam_fake.torrent_bytes())

    response = editor_client.post(acquire_url(gap))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "held"
    assert "below 1.5" in body["last_error"]
    gap.refresh_from_db()
    assert (gap.status, "below 1.5" in gap.hold_reason) == ("found", True)


def test_acquire_a_gap_that_has_an_active_download_returns_it(editor_client, mam):
    gap = stormlight_gap()
    current = DownloadFactory(missing_book=gap, status=DownloadStatus.DOWNLOADING)

    response = editor_client.post(acquire_url(gap))

    assert (response.status_code, response.json()["id"]) == (200, current.id)
    assert mam.log == []  # MAM was not asked


def test_acquire_without_a_candidate_is_409(editor_client, mam):
    gap = stormlight_gap()
    serve_search(mam, mam_fake.row(503, "Something Else Entirely", authors=("Someone Else",), series=()))

    response = editor_client.post(acquire_url(gap))

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert Download.objects.count() == 0


def test_acquire_an_ignored_gap_is_409(editor_client, mam):
    gap = stormlight_gap(status="ignored")
    assert editor_client.post(acquire_url(gap)).status_code == 409
    assert mam.log == []


def test_a_viewer_cannot_acquire(viewer_client):
    gap = stormlight_gap()
    assert viewer_client.post(acquire_url(gap)).status_code == 403
    assert viewer_client.post("/api/v1/gaps/acquire/", {}, format="json").status_code == 403


# --- acquire job ---------------------------------------------------------------------------------------


@pytest.fixture
def no_worker(monkeypatch):
    monkeypatch.setattr("scheduler.runner.async_task", lambda *args, **kwargs: "task-1")


def test_gaps_acquire_queues_an_acquire_wanted_run(editor_client, no_worker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post("/api/v1/gaps/acquire/", {"max_downloads": 3}, format="json")

    assert response.status_code == 202, response.json()
    run = JobRun.objects.get()
    assert (run.job, run.trigger, run.params) == ("acquire_wanted", "api", {"analyze": True, "max_downloads": 3})
    assert response.json()["params"] == run.params


@pytest.mark.parametrize("value", [0, 51, "many"])
def test_gaps_acquire_validates_max_downloads(editor_client, value):
    response = editor_client.post("/api/v1/gaps/acquire/", {"max_downloads": value}, format="json")

    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["body", "max_downloads"]
    assert JobRun.objects.count() == 0


def test_gaps_acquire_with_wait_analyses_then_queues_within_the_limit(editor_client, mam, monkeypatch):
    from tests.library.gaps_fake import install

    install(monkeypatch)  # analysis asks the (fake, empty) providers
    healthy_account()
    first = stormlight_gap()
    second = stormlight_gap(title="Words of Radiance", position="2")
    MissingBook.objects.filter(pk=second.pk).update(priority=3)
    serve_search(mam, mam_fake.row(601, free=1), mam_fake.row(602, "Words of Radiance", free=1))
    serve_torrent(mam, 601, mam_fake.torrent_bytes())

    response = editor_client.post("/api/v1/gaps/acquire/?wait=true", {"max_downloads": 1}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["job"], body["status"]) == ("acquire_wanted", "succeeded"), body["error"]
    assert body["summary"]["queued"] == [{"gap": first.id, "download": Download.objects.get().id}]
    assert Download.objects.get().missing_book_id == first.id


# --- a gap's download field ----------------------------------------------------------------------------


def test_a_gap_shows_its_active_download_else_its_newest(viewer_client):
    gap = stormlight_gap()
    assert viewer_client.get(f"/api/v1/gaps/{gap.id}/").json()["download"] is None

    active = DownloadFactory(missing_book=gap, status=DownloadStatus.DOWNLOADING)
    newer_cancelled = DownloadFactory(missing_book=gap, status=DownloadStatus.CANCELLED)
    Download.objects.filter(pk=active.pk).update(created_at=timezone.now() - timedelta(days=1))
    assert viewer_client.get(f"/api/v1/gaps/{gap.id}/").json()["download"] == active.id

    Download.objects.filter(pk=active.pk).update(status=DownloadStatus.ABANDONED)
    listed = viewer_client.get("/api/v1/gaps/").json()["results"]
    assert [row["download"] for row in listed] == [newer_cancelled.id]


@pytest.mark.parametrize("rows", [3, 30])
def test_the_gap_list_with_downloads_still_takes_three_queries(
    viewer_client, django_assert_num_queries, monkeypatch, rows
):
    monkeypatch.setattr(TieredThrottleMixin, "get_throttles", lambda self: [])
    for position in range(1, rows + 1):
        gap = stormlight_gap(title=f"Book {position}", position=str(position))
        DownloadFactory(missing_book=gap)
    # 1 COUNT, 2 the page joined with series and its download id (a subquery), 3 the page's authors.
    with django_assert_num_queries(3):
        response = viewer_client.get("/api/v1/gaps/", {"limit": 50})
    assert all(row["download"] for row in response.json()["results"])
