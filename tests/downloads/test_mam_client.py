"""The MAM client against a fake MAM (pytest-httpserver)."""

import hashlib
import json
import time

import pytest
from werkzeug import Response

from downloads import bencode
from downloads.integrations.mam import USER_AGENT, MamClient, parse_size
from downloads.models import MamSession
from library.integrations import base
from mamcrawler.api.exceptions import ExternalApiError
from tests.downloads import mam_fake

pytestmark = pytest.mark.django_db

SEARCH = "/tor/js/loadSearchJSONbasic.php"


@pytest.fixture
def mam(settings, httpserver):
    mam_fake.configure(settings, httpserver)
    return httpserver


@pytest.fixture
def no_backoff(monkeypatch):
    waits = []
    monkeypatch.setattr(base, "_sleep", waits.append)
    return waits


def test_search_sends_the_spec_body_with_cookie_and_user_agent(mam):
    mam.expect_request(
        SEARCH,
        method="POST",
        headers={"Cookie": f"mam_id={mam_fake.SESSION}", "User-Agent": USER_AGENT},
    ).respond_with_json(mam_fake.search_body(mam_fake.row()))

    with MamClient() as client:
        client.search("way of kings")

    body = json.loads(mam.log[0][0].data)
    assert body == {
        "tor": {
            "text": "way of kings",
            "srchIn": ["title", "author", "narrator", "series"],
            "searchType": "all",
            "main_cat": ["13"],
            "sortType": "default",
            "startNumber": "0",
            "browse_lang": ["1"],
        },
        "perpage": 100,
        "dlLink": "true",
    }


def test_search_parses_rows_and_their_json_string_maps(mam):
    rows = [
        mam_fake.row(),
        mam_fake.row(102, "Oathbringer", series=(("The Stormlight Archive", "3"),), size=987654321, free=1, fl_vip=1),
    ]
    mam.expect_request(SEARCH, method="POST").respond_with_json(mam_fake.search_body(*rows))

    with MamClient() as client:
        first, second = client.search("stormlight")

    assert first.id == 101
    assert first.title == "The Way of Kings"
    assert first.authors == ["Brandon Sanderson"]
    assert first.narrators == ["Michael Kramer", "Kate Reading"]
    assert first.series == [("The Stormlight Archive", "1")]
    assert first.size_bytes == int(1.5 * 1024**3)
    assert (first.filetype, first.seeders, first.lang_code, first.dl) == ("m4b", 25, "ENG", "dlhash101")
    assert (first.free, first.vip, first.numfiles, first.category) == (False, False, 1, "Audiobooks - Fantasy")
    assert second.size_bytes == 987654321
    assert second.free and second.fl_vip and not second.personal_freeleech
    assert second.series == [("The Stormlight Archive", "3")]


@pytest.mark.parametrize("answer", [mam_fake.NOTHING, mam_fake.search_body(), {"data": None}])
def test_no_results_is_an_empty_list(mam, answer):
    mam.expect_request(SEARCH, method="POST").respond_with_json(answer)

    with MamClient() as client:
        assert client.search("nothing like this") == []


def test_account_returns_snapshot_fields(mam):
    mam.expect_request("/jsonLoad.php", query_string="snatch_summary").respond_with_json(
        mam_fake.account_body(classname="VIP", vip_until="2027-01-31 00:00:00")
    )

    with MamClient() as client:
        fields = client.account()

    assert fields["uid"] == 424242
    assert fields["username"] == "reader"
    assert str(fields["ratio"]) == "3.1416"
    assert fields["uploaded_bytes"] == 337_325_425_050
    assert fields["downloaded_bytes"] == 107_374_182_400
    assert fields["seedbonus"] == 51234
    assert fields["classname"] == "VIP"
    assert fields["vip_until"].year == 2027
    assert (fields["unsat_count"], fields["unsat_limit"], fields["wedges"]) == (7, 50, 3)
    assert fields["site_freeleech"] is False
    assert fields["raw"]["connectable"] == "yes"


def test_download_torrent_returns_bytes_whose_info_hash_is_computed(mam):
    torrent = mam_fake.torrent_bytes()
    mam.expect_request("/tor/download.php/dlhash101").respond_with_data(
        torrent, content_type="application/x-bittorrent"
    )
    mam.expect_request("/tor/download.php", query_string="tid=101").respond_with_data(torrent)
    info = bencode.decode(torrent)[b"info"]
    expected = hashlib.sha1(bencode.encode(info)).hexdigest()  # noqa: S324

    with MamClient() as client:
        by_dl = client.download_torrent(dl="dlhash101")
        by_tid = client.download_torrent(tid=101)

    assert by_dl == by_tid == torrent
    assert MamClient.info_hash(by_dl) == expected
    assert len(expected) == 40


def _expired_error(mam, respond):
    respond(mam.expect_request("/jsonLoad.php"))
    with MamClient() as client, pytest.raises(ExternalApiError) as caught:
        client.account()
    return caught.value


@pytest.mark.parametrize(
    "respond",
    [
        pytest.param(lambda req: req.respond_with_data("Forbidden", status=403), id="403"),
        pytest.param(
            lambda req: req.respond_with_data("<html><form>Log in</form></html>", content_type="text/html"), id="html"
        ),
        pytest.param(
            lambda req: req.respond_with_data("", status=302, headers={"Location": "/login.php?returnto=%2F"}),
            id="redirect",
        ),
    ],
)
def test_an_expired_session_is_a_non_retryable_error_and_is_recorded(mam, no_backoff, respond):
    error = _expired_error(mam, respond)

    assert error.service == "MAM"
    assert error.retryable is False
    assert "session expired" in str(error.detail)
    assert len(mam.log) == 1  # no retries
    session = MamSession.load()
    assert session.expired is True
    assert "session expired" in session.last_error
    assert mam_fake.SESSION not in str(error.detail)


def test_a_torrent_download_answering_a_page_means_the_session_expired(mam):
    mam.expect_request("/tor/download.php/dlhash1").respond_with_data("<html>login</html>", content_type="text/html")

    with MamClient() as client, pytest.raises(ExternalApiError, match="session expired"):
        client.download_torrent(dl="dlhash1")

    assert MamSession.load().expired


def test_a_rotated_cookie_is_stored_and_used_by_the_next_client(mam):
    mam.expect_ordered_request("/jsonLoad.php").respond_with_response(
        Response(
            json.dumps(mam_fake.account_body()),
            content_type="application/json",
            headers={"Set-Cookie": "mam_id=rotated-cookie-2; path=/; HttpOnly"},
        )
    )
    mam.expect_ordered_request(SEARCH, headers={"Cookie": "mam_id=rotated-cookie-2"}).respond_with_json(
        mam_fake.NOTHING
    )

    with MamClient() as client:
        client.account()
    assert MamSession.load().mam_id == "rotated-cookie-2"
    with MamClient() as other:
        assert other.search("x") == []
    mam.check_assertions()


def test_requests_are_paced_across_clients(settings, mam):
    settings.MAM_MIN_INTERVAL = 0.3
    mam.expect_request(SEARCH).respond_with_json(mam_fake.NOTHING)

    with MamClient() as one, MamClient() as two:
        one.search("a")
        started = time.monotonic()
        two.search("b")
        waited = time.monotonic() - started

    assert waited >= 0.25
    assert MamSession.load().next_request_at > time.time()


def test_server_errors_are_retried_with_backoff_then_succeed(mam, no_backoff):
    mam.expect_ordered_request(SEARCH).respond_with_data("oops", status=500)
    mam.expect_ordered_request(SEARCH).respond_with_data("busy", status=503)
    mam.expect_ordered_request(SEARCH).respond_with_json(mam_fake.search_body(mam_fake.row()))

    with MamClient() as client:
        assert [torrent.id for torrent in client.search("x")] == [101]

    assert len(no_backoff) == 2
    assert no_backoff[1] >= no_backoff[0] / 2


def test_server_errors_give_up_after_three_retries(mam, no_backoff):
    mam.expect_request(SEARCH).respond_with_data("oops", status=500)

    with MamClient() as client, pytest.raises(ExternalApiError) as caught:
        client.search("x")

    assert caught.value.retryable is True
    assert len(mam.log) == 4
    assert not MamSession.load().expired


def test_a_blank_session_id_is_not_configured(settings, httpserver):
    mam_fake.configure(settings, httpserver)
    settings.MAM_SESSION_ID = ""

    with pytest.raises(ExternalApiError, match="not configured"):
        MamClient()


@pytest.mark.parametrize(
    ("value", "expected"),
    [(123, 123), ("123", 123), ("1.5 GiB", 1610612736), ("850 MiB", 891289600), ("1,024 KiB", 1048576), ("", 0)],
)
def test_sizes_are_read_as_bytes_or_human_strings(value, expected):
    assert parse_size(value) == expected


def test_bencode_decodes_and_rejects_garbage():
    assert bencode.decode(b"d3:agei7e4:tagsl1:a1:bee") == {b"age": 7, b"tags": [b"a", b"b"]}
    for garbage in (b"", b"d3:age", b"i7ex", b"x"):
        with pytest.raises(bencode.BencodeError):
            bencode.decode(garbage)
    with pytest.raises(ExternalApiError, match="cannot be read"):
        MamClient.info_hash(b"d4:name1:xe")


def test_a_newly_configured_session_id_replaces_an_expired_cookie(settings, mam):
    mam.expect_request("/jsonLoad.php").respond_with_data("no", status=403)
    with MamClient() as client, pytest.raises(ExternalApiError):
        client.account()
    assert MamSession.load().expired

    settings.MAM_SESSION_ID = "fresh-cookie-3"
    mam.clear()
    mam.expect_request("/jsonLoad.php", headers={"Cookie": "mam_id=fresh-cookie-3"}).respond_with_json(
        mam_fake.account_body()
    )
    with MamClient() as client:
        assert client.account()["uid"] == 424242
    session = MamSession.load()
    assert (session.mam_id, session.expired, session.last_error) == ("fresh-cookie-3", False, "")


def test_a_rotated_cookie_survives_while_the_setting_is_unchanged(mam):
    MamSession.load()
    MamSession.objects.update(mam_id="rotated-cookie-2")

    assert MamSession.load().mam_id == "rotated-cookie-2"
