"""The Audiobookshelf client and its HTTP base: paging, retries, and every failure as ExternalApiError."""

import logging
import socket

import pytest
from werkzeug import Response

from library.integrations import base
from library.integrations.audiobookshelf import AudiobookshelfClient
from mamcrawler.api.exceptions import ExternalApiError
from tests.library.abs_fake import ALWAYS, API_KEY, CLIENT_TIMEOUT, fake_server, running_fake


@pytest.fixture
def sleeps(monkeypatch):
    """The waits between attempts, recorded instead of slept."""
    waits = []
    monkeypatch.setattr(base, "_sleep", waits.append)
    return waits


@pytest.fixture(scope="module")
def abs_server():
    with fake_server() as server:
        yield server


@pytest.fixture
def fake(settings, sleeps, abs_server):
    with running_fake(settings, abs_server, items=250, libraries=2) as fake:
        yield fake


@pytest.fixture
def server(abs_server):
    """The bare server on 127.0.0.1, for answers the fake does not give."""
    yield abs_server
    abs_server.clear()


def _client(url, **options):
    return AudiobookshelfClient(base_url=url, api_key=API_KEY, **{"timeout": CLIENT_TIMEOUT, "retries": 2, **options})


def _error(call) -> ExternalApiError:
    with pytest.raises(ExternalApiError) as caught:
        call()
    return caught.value


def test_it_lists_libraries_with_the_bearer_key(fake):
    with AudiobookshelfClient.from_settings() as client:
        libraries = client.libraries()

    assert [(library["id"], library["mediaType"]) for library in libraries] == [("lib_1", "book"), ("lib_2", "book")]
    assert fake.requests[0][:2] == ("GET", "/api/libraries")


def test_it_reads_pages_until_total_items_are_read(fake):
    with AudiobookshelfClient.from_settings(page_size=50) as client:
        pages = list(client.item_pages("lib_1"))
        items = list(client.items("lib_2"))

    assert [page.page for page in pages] == [0, 1, 2]
    assert [len(page.items) for page in pages] == [50, 50, 25]
    assert {page.total for page in pages} == {125}
    assert len(items) == 125
    assert [query["page"] for query in fake.item_requests("lib_1")] == ["0", "1", "2"]
    assert {query["limit"] for query in fake.item_requests("lib_1")} == {"50"}


def test_it_stops_at_an_empty_page_even_if_total_says_more(server):
    server.expect_request(
        "/api/libraries/lib/items", query_string="limit=10&page=0&sort=addedAt&desc=0"
    ).respond_with_json({"results": [{"id": "a"}], "total": 99, "limit": 10, "page": 0})
    server.expect_request(
        "/api/libraries/lib/items", query_string="limit=10&page=1&sort=addedAt&desc=0"
    ).respond_with_json({"results": [], "total": 99, "limit": 10, "page": 1})

    with _client(server.url_for(""), page_size=10) as client:
        assert [item["id"] for item in client.items("lib")] == ["a"]


def test_a_page_that_times_out_once_is_retried_with_backoff(fake, sleeps):
    fake.fail_page("lib_1", 1, mode="timeout")
    notes = []

    with AudiobookshelfClient.from_settings(page_size=100) as client:
        client.on_retry = notes.append
        items = list(client.items("lib_1"))

    assert len(items) == 125
    assert client.retried == 1
    assert len(sleeps) == 1 and base.HttpClient.backoff_base / 2 <= sleeps[0] <= base.HttpClient.backoff_base
    assert notes == [notes[0]] and "GET /api/libraries/lib_1/items: timed out; retry 1/2" in notes[0]


def test_backoff_grows_exponentially_and_5xx_fails_retryable_after_the_last_attempt(fake, sleeps):
    fake.fail_page("lib_1", 0, mode=503, times=ALWAYS)

    with AudiobookshelfClient.from_settings(retries=3) as client:
        error = _error(lambda: client.item_page("lib_1", 0))

    assert (error.service, error.retryable, error.context["status_code"]) == ("Audiobookshelf", True, 503)
    assert "answered HTTP 503 to GET /api/libraries/lib_1/items (4 attempts): Server error" in error.detail_text
    assert len(sleeps) == 3
    for attempt, wait in enumerate(sleeps):
        ceiling = base.HttpClient.backoff_base * 2**attempt
        assert ceiling / 2 <= wait <= ceiling


def test_429_waits_as_long_as_retry_after_asks(server, sleeps):
    server.expect_oneshot_request("/api/libraries").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "7"})
    )
    server.expect_oneshot_request("/api/libraries").respond_with_json({"libraries": [{"id": "l1", "name": "A"}]})

    with _client(server.url_for("")) as client:
        assert client.libraries() == [{"id": "l1", "name": "A"}]

    assert sleeps == [7.0]


def test_429_asking_for_a_long_wait_fails_at_once_with_the_wait(server, sleeps):
    server.expect_request("/api/libraries").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "3600"})
    )

    with _client(server.url_for("")) as client:
        error = _error(client.libraries)

    assert (error.retryable, error.context) == (True, {"retry_after": 3600, "status_code": 429})
    assert sleeps == []


def test_a_wrong_key_is_a_clear_non_retryable_error_without_the_key(fake, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    with AudiobookshelfClient(base_url=fake.url, api_key="wrong-secret-key", retries=3) as client:
        error = _error(client.libraries)

    assert (error.service, error.retryable, error.status_code) == ("Audiobookshelf", False, 502)
    assert error.context == {"status_code": 401}
    assert error.detail_text == (
        "Audiobookshelf rejected the credentials (HTTP 401 on GET /api/libraries): "
        "check ABS_API_KEY (an Audiobookshelf API key, sent as a bearer token)."
    )
    assert len(fake.requests) == 1 and sleeps == []  # 4xx is never retried
    assert "wrong-secret-key" not in caplog.text


def test_other_4xx_answers_are_not_retried(fake, sleeps):
    with AudiobookshelfClient.from_settings() as client:
        error = _error(lambda: client.item_page("no-such-library", 0))

    assert (error.retryable, error.context) == (False, {"status_code": 404})
    assert "answered HTTP 404 NOT FOUND to GET /api/libraries/no-such-library/items: Not Found" in error.detail_text
    assert sleeps == []


def test_a_body_that_is_not_json_is_an_error(fake):
    fake.fail_page("lib_1", 0, mode="garbage")

    with AudiobookshelfClient.from_settings() as client:
        error = _error(lambda: client.item_page("lib_1", 0))

    assert error.service == "Audiobookshelf"
    assert "sent a body that is not JSON (text/html" in error.detail_text


def test_json_of_the_wrong_shape_is_an_error(server):
    server.expect_request("/api/libraries").respond_with_json(["not", "an", "object"])
    server.expect_request("/api/libraries/x/items").respond_with_json({"results": [], "total": "many"})

    with _client(server.url_for("")) as client:
        libraries_error = _error(client.libraries)
        page_error = _error(lambda: client.item_page("x", 0))

    assert "unexpected answer to GET /api/libraries: no 'libraries' list" in libraries_error.detail_text
    assert "no 'results' list and 'total' count" in page_error.detail_text
    assert not libraries_error.retryable


def test_an_unreachable_server_is_retried_then_reported(sleeps):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again at once: nothing listens there

    with _client(f"http://127.0.0.1:{port}") as client:
        error = _error(client.libraries)

    assert error.retryable
    assert error.detail_text.startswith("Audiobookshelf is unreachable on GET /api/libraries: ConnectError")
    assert error.detail_text.endswith("(3 attempts).")
    assert len(sleeps) == 2


def test_the_url_credentials_and_key_stay_out_of_messages(sleeps):
    error = _error(lambda: AudiobookshelfClient(base_url="ftp://user:hunter2@host", api_key=API_KEY).libraries())

    assert "hunter2" not in error.detail_text and API_KEY not in error.detail_text
    assert not error.retryable


def test_it_needs_a_url_and_a_key(settings):
    settings.ABS_URL = ""
    assert "set ABS_URL" in _error(AudiobookshelfClient.from_settings).detail_text
    settings.ABS_URL = "http://127.0.0.1:1"
    settings.ABS_API_KEY = ""
    assert "set ABS_API_KEY" in _error(AudiobookshelfClient.from_settings).detail_text


def test_update_media_patches_the_metadata(fake):
    with AudiobookshelfClient.from_settings() as client:
        answer = client.update_media("li_00003", {"title": "New Title", "publishedYear": "2001"})

    assert answer["updated"] is True
    assert fake.patches == [("li_00003", {"metadata": {"title": "New Title", "publishedYear": "2001"}})]
    assert fake.by_id["li_00003"]["media"]["metadata"]["title"] == "New Title"


def test_scan_library_posts_and_accepts_a_plain_text_answer(fake):
    with AudiobookshelfClient.from_settings() as client:
        client.scan_library("lib_2")

    assert fake.scans == ["lib_2"]
    assert fake.requests[-1][:2] == ("POST", "/api/libraries/lib_2/scan")
