"""Queuing torrents (SPEC §8): one Download per torrent, the guard's view of the account, held downloads."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from downloads.account import account_state
from downloads.acquisition import (
    download_create,
    download_from_magnet,
    download_from_upload,
    downloads_release_held,
    mam_torrent_id_from_url,
)
from downloads.bencode import encode
from downloads.models import Download, DownloadStatus, MamAccountSnapshot
from downloads.torrents import MAX_TORRENT_BYTES, magnet_meta, torrent_meta
from mamcrawler.api.exceptions import AppValidationError
from tests.downloads import mam_fake

pytestmark = pytest.mark.django_db

S = DownloadStatus
GIB = 2**30


def torrent(name="Book", tracker="http://127.0.0.1:9/announce", length=12345) -> bytes:
    info = {"name": name, "length": length, "piece length": 16384, "pieces": b"\x02" * 20}
    return encode({"announce": tracker, "info": info})


# --- reading torrents -------------------------------------------------------------------------------


def test_torrent_meta_reads_hash_name_size_and_trackers():
    meta = torrent_meta(mam_fake.torrent_bytes("The Way of Kings"))

    assert len(meta.info_hash) == 40 and meta.name == "The Way of Kings" and meta.size_bytes == 12345
    assert meta.tracker_hosts == {"t.myanonamouse.net"}


@pytest.mark.parametrize(
    "data",
    [b"", b"<html>login</html>", b"d4:spam4:eggse", b"l" * 100_000, b"d4:infoi1ee", b"d4:info"],
    ids=["empty", "html", "no-info", "deeply-nested", "info-not-a-dict", "truncated"],
)
def test_bytes_that_are_not_a_torrent_are_a_validation_error(data):
    with pytest.raises(AppValidationError):
        torrent_meta(data)


def test_a_torrent_over_ten_mebibytes_is_refused_before_parsing():
    with pytest.raises(AppValidationError, match="10 MiB"):
        torrent_meta(b"d" + b"0" * MAX_TORRENT_BYTES)


def test_magnet_links_in_hex_and_base32_give_the_same_hash():
    hex_hash = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
    base32 = "YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK"

    assert magnet_meta(f"magnet:?xt=urn:btih:{hex_hash}&dn=Book").info_hash == hex_hash
    assert magnet_meta(f"magnet:?xt=urn:btih:{base32}").info_hash == hex_hash
    for bad in ("http://example.com/x.torrent", "magnet:?dn=nothing", "magnet:?xt=urn:btih:1234"):
        with pytest.raises(AppValidationError):
            magnet_meta(bad)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/tor/download.php?tid=5",
        "https://www.myanonamouse.net@evil.example/tor/download.php?tid=5",
        "https://www.myanonamouse.net.evil.example/t/5",
        "file:///etc/passwd",
        "https://www.myanonamouse.net:8443/t/5",
        "https://www.myanonamouse.net/logout.php?id=5",
    ],
)
def test_a_torrent_url_must_be_a_mam_torrent_url(url, settings):
    settings.MAM_BASE_URL = "https://www.myanonamouse.net"

    with pytest.raises(AppValidationError):
        mam_torrent_id_from_url(url)


def test_mam_torrent_urls_give_their_id(settings):
    settings.MAM_BASE_URL = "https://www.myanonamouse.net"

    assert mam_torrent_id_from_url("https://www.myanonamouse.net/t/123456") == 123456
    assert mam_torrent_id_from_url("https://www.myanonamouse.net/tor/download.php?tid=77") == 77


# --- one Download per torrent ----------------------------------------------------------------------------


def test_the_same_torrent_twice_is_one_download():
    first, created = download_from_upload(data=torrent())
    again, created_again = download_from_upload(data=torrent())

    assert (created, created_again) == (True, False) and first.pk == again.pk
    assert Download.objects.count() == 1
    assert first.transitions[0]["to"] == S.QUEUED and first.status == S.QUEUED


def test_a_finished_torrent_may_be_downloaded_again():
    first, _ = download_from_magnet(magnet="magnet:?xt=urn:btih:" + "b" * 40)
    Download.objects.filter(pk=first.pk).update(status=S.CANCELLED)

    second, created = download_from_magnet(magnet="magnet:?xt=urn:btih:" + "b" * 40)

    assert created and second.pk != first.pk


@pytest.mark.django_db(transaction=True)
def test_two_workers_queuing_one_torrent_at_once_make_one_download():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them (the test above covers it)")
    meta = torrent_meta(torrent("Race"))
    barrier = threading.Barrier(4)
    results, errors = [], []

    def queue():
        try:
            barrier.wait(timeout=10)
            results.append(download_create(meta=meta, source="upload", torrent_bytes=torrent("Race")))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=queue) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    assert Download.objects.count() == 1
    assert sum(created for _download, created in results) == 1
    assert {download.pk for download, _created in results} == {Download.objects.get().pk}


# --- the account the guard sees --------------------------------------------------------------------------


def test_paid_downloads_since_the_snapshot_count_against_the_account():
    snapshot = MamAccountSnapshot.objects.create(
        uploaded_bytes=300 * GIB, downloaded_bytes=100 * GIB, unsat_count=5, unsat_limit=50, wedges=2
    )
    Download.objects.create(title="paid", info_hash="1" * 40, size_bytes=50 * GIB)
    Download.objects.create(title="free", info_hash="2" * 40, size_bytes=70 * GIB, is_free=True)
    Download.objects.create(title="held", info_hash="3" * 40, size_bytes=90 * GIB, status=S.HELD)
    Download.objects.create(title="wedge", info_hash="4" * 40, size_bytes=9 * GIB, is_free=True, used_wedge=True)

    account = account_state(snapshot=snapshot)

    assert account.downloaded_bytes == 150 * GIB
    assert account.unsat_count == 6
    assert account.downloads_today == 1
    assert account.wedges == 1


def test_without_a_snapshot_paid_torrents_are_refused(settings):
    from downloads.guard import guard_check

    decision = guard_check(account=account_state(), size_bytes=GIB)

    assert not decision.allowed and "unsatisfied" in decision.hold_reason


def test_held_downloads_are_released_when_the_guard_allows_them(settings):
    settings.MIN_RATIO = 1.5
    MamAccountSnapshot.objects.create(uploaded_bytes=110 * GIB, downloaded_bytes=100 * GIB, unsat_limit=50)
    download, _ = download_from_upload(data=torrent(tracker="https://t.myanonamouse.net/a/announce", length=GIB))

    assert download.status == S.HELD and "below 1.5" in download.last_error
    assert downloads_release_held() == []

    MamAccountSnapshot.objects.create(
        uploaded_bytes=500 * GIB, downloaded_bytes=100 * GIB, unsat_limit=50, taken_at=timezone.now()
    )
    MamAccountSnapshot.objects.filter(uploaded_bytes=110 * GIB).update(taken_at=timezone.now() - timedelta(hours=2))

    assert downloads_release_held() == [download.pk]
    download.refresh_from_db()
    assert download.status == S.QUEUED and download.last_error == ""
    assert [t["to"] for t in download.transitions] == [S.QUEUED, S.HELD, S.QUEUED]


def test_an_uploaded_torrent_of_another_tracker_is_not_guarded():
    download, _ = download_from_upload(data=torrent(tracker="http://tracker.example/announce"))

    assert download.status == S.QUEUED
