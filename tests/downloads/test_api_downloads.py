"""The downloads API (SPEC §4 Downloads, §4.1 Download): reading, adding, uploading and queuing downloads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pytest_httpserver import HTTPServer

from downloads.models import Download, DownloadSource, DownloadStatus
from downloads.state import download_transition
from mamcrawler.api.throttling import TieredThrottleMixin
from tests.downloads import mam_fake
from tests.downloads.api_fakes import (
    hash_of,
    healthy_account,
    low_ratio_account,
    plain_torrent,
    serve_search,
    serve_torrent,
    stormlight_gap,
)
from tests.downloads.factories import DownloadFactory
from tests.factories import BookFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/downloads/"
REPRESENTATION = {
    "id",
    "title",
    "author",
    "source",
    "mam_torrent_id",
    "info_hash",
    "status",
    "client_state",
    "progress",
    "size_bytes",
    "is_free",
    "is_vip",
    "used_wedge",
    "retry_count",
    "max_retries",
    "next_retry_at",
    "last_error",
    "book",
    "missing_book",
    "created_at",
    "updated_at",
}
MAGNET = (
    "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=Mistborn&tr=https://t.example/announce/PASSKEY123"
)


@pytest.fixture
def mam(settings, httpserver):
    mam_fake.configure(settings, httpserver)
    return httpserver


@pytest.fixture
def other_host():
    """A second web server that stands for any host other than MAM."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def error_locs(response) -> list[list]:
    return [entry["loc"] for entry in response.json()["context"]["validation_errors"]]


# --- reading -------------------------------------------------------------------------------------


def test_a_download_has_the_documented_representation_and_never_its_secrets(viewer_client):
    book = BookFactory()
    download = DownloadFactory(
        title="Mistborn",
        source=DownloadSource.MANUAL,
        magnet=MAGNET,
        torrent_file=b"d4:infod4:name3:abcee",
        book=book,
        size_bytes=123,
    )

    listed = viewer_client.get(URL).json()["results"][0]
    detail = viewer_client.get(f"{URL}{download.id}/").json()

    assert set(listed) == REPRESENTATION
    assert set(detail) == REPRESENTATION | {"transitions"}
    assert (detail["title"], detail["source"], detail["book"], detail["size_bytes"]) == (
        "Mistborn",
        "manual",
        book.id,
        123,
    )
    assert detail["created_at"].endswith("Z")
    for body in (listed, detail):
        assert "PASSKEY123" not in str(body)
        assert "magnet" not in body and "torrent_file" not in body


def test_retrieve_shows_the_transition_history(viewer_client):
    download = DownloadFactory(status=DownloadStatus.QUEUED)
    download_transition(download=download, to=DownloadStatus.SUBMITTING, reason="claimed by test")

    body = viewer_client.get(f"{URL}{download.id}/").json()

    assert body["status"] == "submitting"
    [entry] = body["transitions"]
    assert (entry["from"], entry["to"], entry["reason"]) == ("queued", "submitting", "claimed by test")
    assert entry["at"].endswith("Z")


def test_unknown_and_malformed_ids(viewer_client):
    assert viewer_client.get(f"{URL}999999/").status_code == 404
    assert viewer_client.get(f"{URL}abc/").status_code == 422


def test_it_filters_by_several_statuses_source_book_and_gap(viewer_client):
    book, gap = BookFactory(), stormlight_gap()
    queued = DownloadFactory(status=DownloadStatus.QUEUED, book=book)
    failed = DownloadFactory(status=DownloadStatus.FAILED, source=DownloadSource.UPLOAD, missing_book=gap)
    DownloadFactory(status=DownloadStatus.IMPORTED)

    assert sorted(ids(viewer_client.get(URL, {"status": ["queued", "failed"]}))) == sorted([queued.id, failed.id])
    assert ids(viewer_client.get(URL, {"source": "upload"})) == [failed.id]
    assert ids(viewer_client.get(URL, {"book": book.id})) == [queued.id]
    assert ids(viewer_client.get(URL, {"missing_book": gap.id})) == [failed.id]


def test_it_filters_by_creation_date(viewer_client):
    old = DownloadFactory()
    Download.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    new = DownloadFactory()
    cutoff = (timezone.now() - timedelta(days=1)).date().isoformat()

    assert ids(viewer_client.get(URL, {"created_after": cutoff})) == [new.id]
    assert ids(viewer_client.get(URL, {"created_before": cutoff})) == [old.id]


def test_it_searches_title_author_and_info_hash(viewer_client):
    mistborn = DownloadFactory(title="Mistborn", author="Brandon Sanderson")
    dune = DownloadFactory(title="Dune", author="Frank Herbert", info_hash="ab" * 20)

    assert ids(viewer_client.get(URL, {"search": "mistborn"})) == [mistborn.id]
    assert ids(viewer_client.get(URL, {"search": "herbert"})) == [dune.id]
    assert ids(viewer_client.get(URL, {"search": "abab"})) == [dune.id]


def test_it_orders_by_the_allow_list_only(viewer_client):
    low = DownloadFactory(title="B", progress=0.1, priority=3)
    high = DownloadFactory(title="A", progress=0.9, priority=1)

    assert ids(viewer_client.get(URL, {"ordering": "title"})) == [high.id, low.id]
    assert ids(viewer_client.get(URL, {"ordering": "-progress"})) == [high.id, low.id]
    assert ids(viewer_client.get(URL, {"ordering": "priority"})) == [high.id, low.id]
    response = viewer_client.get(URL, {"ordering": "info_hash"})
    assert response.status_code == 422
    assert error_locs(response) == [["query", "ordering"]]


def test_bad_filter_values_are_422_at_the_query(viewer_client):
    response = viewer_client.get(URL, {"status": "lost", "created_after": "yesterday"})

    assert response.status_code == 422
    assert sorted(error_locs(response)) == [["query", "created_after"], ["query", "status"]]


def test_pending_failed_and_retry_due_lists(viewer_client):
    statuses = ["queued", "held", "downloading", "paused", "completed", "importing", "submitting"]
    pending = [DownloadFactory(status=value).id for value in statuses]
    due = DownloadFactory(status=DownloadStatus.FAILED, next_retry_at=timezone.now() - timedelta(minutes=5))
    later = DownloadFactory(status=DownloadStatus.FAILED, next_retry_at=timezone.now() + timedelta(hours=1))
    abandoned = DownloadFactory(status=DownloadStatus.ABANDONED)
    DownloadFactory(status=DownloadStatus.IMPORTED)
    DownloadFactory(status=DownloadStatus.CANCELLED)

    assert sorted(ids(viewer_client.get(f"{URL}pending/"))) == sorted(pending)
    assert sorted(ids(viewer_client.get(f"{URL}failed/"))) == sorted([due.id, later.id, abandoned.id])
    assert ids(viewer_client.get(f"{URL}retry-due/")) == [due.id]
    page = viewer_client.get(f"{URL}pending/", {"limit": 2}).json()
    assert (page["count"], len(page["results"])) == (len(pending), 2)


def test_stats_count_by_status_source_and_cost(viewer_client):
    DownloadFactory(status=DownloadStatus.QUEUED, size_bytes=100, is_free=True)
    DownloadFactory(status=DownloadStatus.DOWNLOADING, size_bytes=50, used_wedge=True, is_free=True)
    DownloadFactory(status=DownloadStatus.IMPORTED, size_bytes=1000, status_changed_at=timezone.now())
    DownloadFactory(
        status=DownloadStatus.IMPORTED,
        size_bytes=1,
        status_changed_at=timezone.now() - timedelta(days=3),
        source=DownloadSource.MANUAL,
    )

    body = viewer_client.get(f"{URL}stats/").json()

    assert (body["total"], body["active"]) == (4, 2)
    assert (body["total_size_bytes"], body["active_size_bytes"]) == (1151, 150)
    assert (body["imported_last_24h"], body["imported_last_7d"]) == (1, 2)
    assert body["by_status"]["imported"] == 2 and body["by_status"]["queued"] == 1
    assert body["by_source"] == {"mam": 3, "manual": 1, "upload": 0}
    # The manual magnet is neither free nor paid: it never touches the MAM account.
    assert body["by_cost"] == {"free": 1, "wedge": 1, "paid": 1}


# --- query counts (SPEC §12) ---------------------------------------------------------------------


@pytest.fixture
def without_throttle_counter(monkeypatch):
    """Leave the throttle out of the counts: its counter upsert is per request, not per row."""
    monkeypatch.setattr(TieredThrottleMixin, "get_throttles", lambda self: [])


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("path", ["", "pending/", "failed/"])
def test_download_lists_take_two_queries(
    viewer_client, django_assert_num_queries, without_throttle_counter, rows, path
):
    gap, book = stormlight_gap(), BookFactory()
    status = DownloadStatus.FAILED if path == "failed/" else DownloadStatus.DOWNLOADING
    for _ in range(rows):
        DownloadFactory(status=status, missing_book=gap, book=book, transitions=[{"from": None, "to": "queued"}])
    # 1 COUNT of the downloads, 2 the page (book and gap are ids: no join, no query per row).
    with django_assert_num_queries(2):
        response = viewer_client.get(f"{URL}{path}", {"limit": 50, "ordering": "-progress", "search": "Download"})
    assert len(response.json()["results"]) == rows


# --- auth and roles ------------------------------------------------------------------------------


def test_unauthenticated_is_401(api_client):
    response = api_client.get(URL)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert api_client.post(URL, {"magnet": MAGNET}, format="json").status_code == 401


@pytest.mark.parametrize(
    "path", ["", "queue/", "upload/", "sync/", "{id}/retry/", "{id}/cancel/", "{id}/pause/", "{id}/mark-failed/"]
)
def test_a_viewer_cannot_write(viewer_client, path):
    download = DownloadFactory(status=DownloadStatus.FAILED)

    response = viewer_client.post(URL + path.format(id=download.id), {"magnet": MAGNET}, format="json")

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert Download.objects.count() == 1
    assert Download.objects.get().status == DownloadStatus.FAILED


def test_a_read_only_api_key_of_an_editor_cannot_write(api_key_client, editor_user):
    client = api_key_client(editor_user, scopes=("read",))
    assert client.get(URL).status_code == 200
    assert client.post(URL, {"magnet": MAGNET}, format="json").status_code == 403


# --- create --------------------------------------------------------------------------------------


def test_a_magnet_link_becomes_a_manual_queued_download(editor_client):
    response = editor_client.post(URL, {"magnet": MAGNET, "title": "Mistborn"}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["source"], body["status"], body["title"]) == ("manual", "queued", "Mistborn")
    assert body["info_hash"] == "0123456789abcdef0123456789abcdef01234567"
    assert body["transitions"][0]["to"] == "queued"

    again = editor_client.post(URL, {"magnet": MAGNET}, format="json")
    assert (again.status_code, again.json()["id"]) == (200, body["id"])
    assert Download.objects.count() == 1


def test_a_download_can_fill_a_gap(editor_client):
    gap = stormlight_gap()

    body = editor_client.post(URL, {"magnet": MAGNET, "missing_book": gap.id}, format="json").json()

    assert body["missing_book"] == gap.id
    gap.refresh_from_db()
    assert gap.status == "queued"


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({}, ["body"]),
        ({"magnet": MAGNET, "mam_torrent_id": 5}, ["body"]),
        ({"magnet": "http://not-a-magnet"}, ["body", "magnet"]),
        ({"magnet": "magnet:?dn=no-hash"}, ["body", "magnet"]),
        ({"mam_torrent_id": "abc"}, ["body", "mam_torrent_id"]),
        ({"mam_torrent_id": 0}, ["body", "mam_torrent_id"]),
        ({"magnet": MAGNET, "missing_book": 999999}, ["body", "missing_book"]),
        ({"magnet": MAGNET, "title": "x" * 501}, ["body", "title"]),
        ({"torrent_url": "ftp://example.org/t/1"}, ["body", "torrent_url"]),
        ({"torrent_url": "http://[::1"}, ["body", "torrent_url"]),
        ({"torrent_url": "http://localhost:notaport/t/1"}, ["body", "torrent_url"]),
        ({"torrent_url": "MAM/t/1"}, ["body", "torrent_url"]),
    ],
)
def test_bad_input_is_422_with_its_location(editor_client, payload, loc, mam):
    response = editor_client.post(URL, payload, format="json")

    assert response.status_code == 422, response.json()
    assert response.json()["error"] == "validation_error"
    assert loc in error_locs(response)
    assert Download.objects.count() == 0


def test_a_body_that_is_not_json_is_400(editor_client):
    response = editor_client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_request"


def test_a_mam_torrent_id_is_fetched_from_mam_and_queued_when_free(editor_client, mam):
    healthy_account()
    data = mam_fake.torrent_bytes()
    serve_torrent(mam, 101, data)
    serve_search(mam, mam_fake.row(101, free=1))

    response = editor_client.post(URL, {"mam_torrent_id": 101}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["source"], body["status"], body["mam_torrent_id"]) == ("mam", "queued", 101)
    assert body["info_hash"] == hash_of(data)  # computed from the bytes, never trusted from elsewhere
    assert (body["is_free"], body["title"], body["author"]) == (True, "The Way of Kings", "Brandon Sanderson")


def test_a_torrent_url_on_the_mam_host_is_accepted(editor_client, mam):
    healthy_account()
    serve_torrent(mam, 202, mam_fake.torrent_bytes("Words of Radiance"))
    serve_search(mam, mam_fake.row(202, "Words of Radiance", free=1))

    response = editor_client.post(URL, {"torrent_url": mam.url_for("/t/202")}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["mam_torrent_id"] == 202


def test_a_torrent_url_on_another_host_is_refused_and_never_fetched(editor_client, mam, other_host):
    other_host.expect_request("/tor/download.php").respond_with_data(mam_fake.torrent_bytes())

    for url in (other_host.url_for("/tor/download.php?tid=7"), "https://evil.example/t/7"):
        response = editor_client.post(URL, {"torrent_url": url}, format="json")
        assert response.status_code == 422, response.json()
        assert error_locs(response) == [["body", "torrent_url"]]

    assert other_host.log == []
    assert mam.log == []
    assert Download.objects.count() == 0


def test_the_same_mam_torrent_queued_twice_is_one_download(editor_client, mam):
    healthy_account()
    serve_torrent(mam, 101, mam_fake.torrent_bytes())
    serve_search(mam, mam_fake.row(101, free=1))

    first = editor_client.post(f"{URL}queue/", {"mam_torrent_id": 101}, format="json")
    second = editor_client.post(f"{URL}queue/", {"mam_torrent_id": 101}, format="json")

    assert first.status_code == 201, first.json()
    assert second.status_code == 200, second.json()
    assert second.json()["id"] == first.json()["id"]
    assert Download.objects.count() == 1


def test_the_guard_holds_a_paid_torrent_when_the_ratio_is_low(editor_client, mam):
    low_ratio_account()
    serve_torrent(mam, 101, mam_fake.torrent_bytes())
    serve_search(mam, mam_fake.row(101, size="1.5 GiB"))

    response = editor_client.post(f"{URL}queue/", {"mam_torrent_id": 101}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "held"
    assert "ratio" in body["last_error"] and "below 1.5" in body["last_error"]
    assert body["is_free"] is False
    assert [entry["to"] for entry in body["transitions"]] == ["queued", "held"]


def test_the_guard_lets_a_freeleech_torrent_through_with_the_same_low_ratio(editor_client, mam):
    low_ratio_account()
    serve_torrent(mam, 101, mam_fake.torrent_bytes())
    serve_search(mam, mam_fake.row(101, size="1.5 GiB", free=1))

    body = editor_client.post(f"{URL}queue/", {"mam_torrent_id": 101}, format="json").json()

    assert (body["status"], body["is_free"], body["last_error"]) == ("queued", True, "")


def test_queue_with_a_gap_queues_its_best_candidate(editor_client, mam):
    healthy_account()
    gap = stormlight_gap()
    serve_search(mam, mam_fake.row(101, free=1))
    serve_torrent(mam, 101, mam_fake.torrent_bytes())

    response = editor_client.post(f"{URL}queue/", {"missing_book": gap.id}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["missing_book"], body["mam_torrent_id"], body["status"]) == (gap.id, 101, "queued")
    again = editor_client.post(f"{URL}queue/", {"missing_book": gap.id}, format="json")
    assert (again.status_code, again.json()["id"]) == (200, body["id"])


def test_queue_with_a_gap_mam_cannot_fill_is_409(editor_client, mam):
    healthy_account()
    gap = stormlight_gap()
    mam.expect_request("/tor/js/loadSearchJSONbasic.php", method="POST").respond_with_json(mam_fake.NOTHING)

    response = editor_client.post(f"{URL}queue/", {"missing_book": gap.id}, format="json")

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert Download.objects.count() == 0


def test_queue_needs_exactly_one_of_gap_or_torrent(editor_client):
    gap = stormlight_gap()
    for payload in ({}, {"missing_book": gap.id, "mam_torrent_id": 3}):
        response = editor_client.post(f"{URL}queue/", payload, format="json")
        assert response.status_code == 422
        assert error_locs(response) == [["body"]]


def test_mam_unreachable_is_502(editor_client, settings):
    from tests.downloads.qbittorrent_server import free_port

    settings.MAM_BASE_URL = f"http://127.0.0.1:{free_port()}"
    settings.MAM_SESSION_ID = mam_fake.SESSION
    settings.MAM_MIN_INTERVAL = 0

    response = editor_client.post(URL, {"mam_torrent_id": 101}, format="json")

    assert response.status_code == 502
    assert response.json()["error"] == "external_api_error"
    assert Download.objects.count() == 0


# --- upload --------------------------------------------------------------------------------------


def upload(client, data: bytes, name: str = "book.torrent", **fields):
    return client.post(f"{URL}upload/", {"file": SimpleUploadedFile(name, data), **fields}, format="multipart")


def test_an_uploaded_torrent_is_queued(editor_client):
    data = plain_torrent("Public Domain Classics")

    response = upload(editor_client, data, title="Classics")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["source"], body["status"], body["title"]) == ("upload", "queued", "Classics")
    assert body["info_hash"] == hash_of(data)
    assert bytes(Download.objects.get().torrent_file) == data
    again = upload(editor_client, data)
    assert (again.status_code, again.json()["id"]) == (200, body["id"])


def test_an_uploaded_mam_torrent_goes_through_the_guard(editor_client, settings):
    low_ratio_account()
    data = plain_torrent("Paid Book", tracker="https://t.myanonamouse.net/tracker.php/x/announce")

    body = upload(editor_client, data).json()

    assert body["status"] == "held"
    assert "unsatisfied" in body["last_error"] or "ratio" in body["last_error"]


def test_a_garbage_upload_is_422_and_creates_nothing(editor_client):
    for garbage in (b"this is not a torrent", b"d4:spam4:eggse", b""):
        response = upload(editor_client, garbage)
        assert response.status_code == 422, response.json()
        assert error_locs(response) == [["body", "file"]]
    assert Download.objects.count() == 0


def test_an_upload_over_10_mib_is_refused(editor_client):
    response = upload(editor_client, b"d" + b"x" * (10 * 1024 * 1024 + 1))

    assert 400 <= response.status_code < 500
    assert response.json()["error"] == "validation_error"
    assert error_locs(response) == [["body", "file"]]
    assert Download.objects.count() == 0


def test_an_upload_needs_a_file(editor_client):
    response = editor_client.post(f"{URL}upload/", {"title": "x"}, format="multipart")
    assert response.status_code == 422
    assert error_locs(response) == [["body", "file"]]
