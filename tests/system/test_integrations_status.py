"""/api/v1/system/integrations/: each integration probed for real, concurrently, briefly cached.

MAM, Audiobookshelf and the metadata providers are fakes on pytest-httpserver (127.0.0.1);
qBittorrent is a real qbittorrent-nox (``integration`` tests) or a closed port.
"""

from __future__ import annotations

import time

import pytest
from werkzeug import Response

from downloads.models import MamSession
from mamcrawler.system import integrations
from tests.downloads import mam_fake
from tests.downloads.qbittorrent_server import free_port, qbittorrent_auth_server, qbittorrent_server  # noqa: F401
from tests.library.abs_fake import FakeAudiobookshelf, fake_server

pytestmark = pytest.mark.django_db

URL = "/api/v1/system/integrations/"
ACCOUNT = "/jsonLoad.php"


@pytest.fixture
def unconfigured(settings):
    settings.MAM_SESSION_ID = ""
    settings.QBITTORRENT_URL = ""
    settings.ABS_URL = ""
    settings.ABS_API_KEY = ""
    settings.METADATA_PROVIDERS = []
    settings.INTEGRATION_CHECK_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def threaded_server():
    """One threaded server: several probes may wait on it at once."""
    with fake_server() as server:
        yield server


@pytest.fixture
def server(threaded_server):
    yield threaded_server
    threaded_server.clear()


def _by_name(body) -> dict[str, dict]:
    return {row["name"]: row for row in body["integrations"]}


def _abs(settings, server, *, version="2.17.5"):
    fake = FakeAudiobookshelf(server, items=0, libraries=1)
    server.expect_request("/status").respond_with_json({"isInit": True, "serverVersion": version, "language": "en"})
    settings.ABS_URL = fake.url
    settings.ABS_API_KEY = fake.api_key
    return fake


def _provider(settings, server, name="openlibrary", setting="OPENLIBRARY_URL"):
    server.expect_request(f"/{name}", method="HEAD").respond_with_data("")
    setattr(settings, setting, server.url_for(f"/{name}"))
    settings.METADATA_PROVIDERS = [*settings.METADATA_PROVIDERS, name]


def test_unconfigured_integrations_are_reported_without_any_request(viewer_client, unconfigured, settings, server):
    # Providers point at the server but are not enabled: they must not be contacted either.
    settings.OPENLIBRARY_URL = server.url_for("/openlibrary")

    response = viewer_client.get(URL)

    assert response.status_code == 200
    rows = _by_name(response.json())
    assert {"mam", "qbittorrent", "audiobookshelf", "openlibrary", "audnexus", "googlebooks", "hardcover"} <= set(rows)
    for row in rows.values():
        assert row["reachable"] is None
        assert row["latency_ms"] is None
    assert rows["mam"]["configured"] is False
    assert "MAM_SESSION_ID" in rows["mam"]["message"]
    assert rows["audiobookshelf"]["configured"] is False
    assert rows["openlibrary"]["configured"] is True
    assert rows["openlibrary"]["enabled"] is False
    assert server.log == []


def test_configured_services_are_probed_for_reachability_and_version(viewer_client, unconfigured, settings, server):
    mam_fake.configure(settings, server)
    server.expect_request(ACCOUNT, query_string="snatch_summary").respond_with_json(mam_fake.account_body())
    _abs(settings, server, version="2.17.5")
    _provider(settings, server)

    body = viewer_client.get(URL).json()

    rows = _by_name(body)
    assert rows["mam"]["configured"] is True
    assert rows["mam"]["reachable"] is True
    assert rows["mam"]["last_error"] is None
    assert rows["audiobookshelf"]["reachable"] is True
    assert rows["audiobookshelf"]["version"] == "2.17.5"
    assert rows["openlibrary"]["reachable"] is True
    assert rows["openlibrary"]["circuit"] == "closed"
    for name in ("mam", "audiobookshelf", "openlibrary"):
        assert rows[name]["latency_ms"] >= 0, name
    assert rows["qbittorrent"]["reachable"] is None
    assert body["cached"] is False
    assert body["timeout_seconds"] == 2.0


def test_an_expired_mam_session_is_reachable_with_its_error_and_no_cookie(
    viewer_client, unconfigured, settings, server
):
    mam_fake.configure(settings, server)
    server.expect_request(ACCOUNT, query_string="snatch_summary").respond_with_data("Forbidden", status=403)

    response = viewer_client.get(URL)

    mam = _by_name(response.json())["mam"]
    assert mam["reachable"] is True
    assert "session expired" in mam["last_error"]
    assert mam_fake.SESSION not in response.content.decode()
    assert MamSession.objects.get().expired is True


def test_a_service_that_does_not_answer_is_unreachable(viewer_client, unconfigured, settings):
    settings.QBITTORRENT_URL = f"http://admin:url-secret-771@127.0.0.1:{free_port()}"
    settings.QBITTORRENT_PASSWORD = "qbit-secret-pass-991"
    settings.QBITTORRENT_USERNAME = "admin"
    settings.OPENLIBRARY_URL = f"http://127.0.0.1:{free_port()}"
    settings.METADATA_PROVIDERS = ["openlibrary"]

    response = viewer_client.get(URL)

    rows = _by_name(response.json())
    for name in ("qbittorrent", "openlibrary"):
        assert rows[name]["configured"] is True
        assert rows[name]["reachable"] is False, name
        assert rows[name]["last_error"], name
    text = response.content.decode()
    assert "url-secret-771" not in text
    assert "qbit-secret-pass-991" not in text


def test_audiobookshelf_refusing_the_key_is_reachable_but_failing(viewer_client, unconfigured, settings, server):
    fake = _abs(settings, server)
    settings.ABS_API_KEY = "a-wrong-abs-key-1234"

    response = viewer_client.get(URL)

    row = _by_name(response.json())["audiobookshelf"]
    assert row["reachable"] is True
    assert "HTTP 401" in row["last_error"] or "HTTP 403" in row["last_error"]
    assert "a-wrong-abs-key-1234" not in response.content.decode()
    assert fake.api_key != settings.ABS_API_KEY


def test_a_provider_answering_a_server_error_is_reachable_with_the_error(viewer_client, unconfigured, settings, server):
    server.expect_request("/openlibrary", method="HEAD").respond_with_data("", status=503)
    settings.OPENLIBRARY_URL = server.url_for("/openlibrary")
    settings.METADATA_PROVIDERS = ["openlibrary"]

    row = _by_name(viewer_client.get(URL).json())["openlibrary"]

    assert row["reachable"] is True
    assert "HTTP 503" in row["last_error"]


def _stall(seconds: float):
    def handler(request):
        time.sleep(seconds)
        return Response("", status=200)

    return handler


def test_probes_run_concurrently(viewer_client, unconfigured, settings, server):
    settings.INTEGRATION_CHECK_TIMEOUT = 3.0
    for name, setting in (
        ("openlibrary", "OPENLIBRARY_URL"),
        ("audnexus", "AUDNEXUS_URL"),
        ("googlebooks", "GOOGLE_BOOKS_URL"),
    ):
        server.expect_request(f"/{name}", method="HEAD").respond_with_handler(_stall(0.8))
        setattr(settings, setting, server.url_for(f"/{name}"))
    settings.METADATA_PROVIDERS = ["openlibrary", "audnexus", "googlebooks"]

    started = time.perf_counter()
    body = viewer_client.get(URL).json()
    elapsed = time.perf_counter() - started

    rows = _by_name(body)
    assert [rows[name]["reachable"] for name in ("openlibrary", "audnexus", "googlebooks")] == [True, True, True]
    assert all(rows[name]["latency_ms"] >= 800 for name in ("openlibrary", "audnexus", "googlebooks"))
    assert elapsed < 2.0  # one after the other would take 2.4 s


def test_a_slow_service_is_cut_off_at_the_check_timeout(viewer_client, unconfigured, settings, server):
    settings.INTEGRATION_CHECK_TIMEOUT = 0.3
    server.expect_request("/openlibrary", method="HEAD").respond_with_handler(_stall(2.0))
    settings.OPENLIBRARY_URL = server.url_for("/openlibrary")
    settings.METADATA_PROVIDERS = ["openlibrary"]

    started = time.perf_counter()
    row = _by_name(viewer_client.get(URL).json())["openlibrary"]

    assert row["reachable"] is False
    assert "Timeout" in row["last_error"]
    assert time.perf_counter() - started < 1.5


def test_the_answer_is_cached_until_refresh_is_asked(viewer_client, unconfigured, settings, server):
    _provider(settings, server)

    first = viewer_client.get(URL).json()
    second = viewer_client.get(URL).json()

    assert first["cached"] is False
    assert second["cached"] is True
    assert second["checked_at"] == first["checked_at"]
    assert len(server.log) == 1

    refreshed = viewer_client.get(URL, {"refresh": "true"}).json()

    assert refreshed["cached"] is False
    assert len(server.log) == 2


def test_refresh_must_be_a_boolean(viewer_client, unconfigured):
    response = viewer_client.get(URL, {"refresh": "maybe"})

    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["query", "refresh"]


def test_a_provider_error_recorded_in_real_use_is_reported_scrubbed(unconfigured, settings, server):
    from library.models import ProviderState

    settings.HARDCOVER_TOKEN = "hardcover-token-5566"
    ProviderState.objects.create(provider="hardcover", last_error="Hardcover rejected hardcover-token-5566")

    rows = {status.name: status for status in integrations.integrations_check()}

    assert rows["hardcover"].recent_error == "Hardcover rejected ***"


def test_health_deep_and_the_system_report_agree_on_what_is_configured(api_client, unconfigured, settings):
    settings.ABS_URL = "http://127.0.0.1:9"
    settings.ABS_API_KEY = ""

    deep = api_client.get("/health/deep/").json()["checks"]

    assert deep["audiobookshelf"]["configured"] is integrations.is_configured("audiobookshelf") is False
    assert integrations.missing_settings("audiobookshelf") == ["ABS_API_KEY"]


@pytest.mark.integration
def test_a_real_qbittorrent_tells_its_version(viewer_client, unconfigured, settings, qbittorrent_server):  # noqa: F811
    settings.QBITTORRENT_URL = qbittorrent_server.url
    settings.QBITTORRENT_USERNAME = ""
    settings.QBITTORRENT_PASSWORD = ""

    row = _by_name(viewer_client.get(URL).json())["qbittorrent"]

    assert row["reachable"] is True
    assert row["version"].startswith("v")
    assert row["last_error"] is None


@pytest.mark.integration
def test_a_real_qbittorrent_refusing_the_login_is_reachable(
    viewer_client,
    unconfigured,
    settings,
    qbittorrent_auth_server,  # noqa: F811
):
    settings.QBITTORRENT_URL = qbittorrent_auth_server.url
    settings.QBITTORRENT_USERNAME = qbittorrent_auth_server.username
    settings.QBITTORRENT_PASSWORD = "not-the-password-8080"

    response = viewer_client.get(URL)

    row = _by_name(response.json())["qbittorrent"]
    assert row["reachable"] is True
    assert "login refused" in row["last_error"]
    assert "not-the-password-8080" not in response.content.decode()
