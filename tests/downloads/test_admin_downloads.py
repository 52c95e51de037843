"""The acquisition admin: download actions through the services, the guard verdict, a hidden session cookie."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from downloads.bencode import info_hash
from downloads.integrations.qbittorrent import QbittorrentClient
from downloads.models import Download, DownloadStatus, MamAccountSnapshot, MamSession
from tests.downloads import mam_fake
from tests.downloads.factories import DownloadFactory
from tests.downloads.qbittorrent_server import free_port, qbittorrent_server  # noqa: F401
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GIB = 1024**3
CHANGELIST = "admin:downloads_download_changelist"


@pytest.fixture
def site(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True, role="admin"))
    return client


def act(site, action, *downloads):
    response = site.post(
        reverse(CHANGELIST), {"action": action, "_selected_action": [d.pk for d in downloads]}, follow=True
    )
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def stored(download) -> Download:
    return Download.objects.get(pk=download.pk)


# --- actions -----------------------------------------------------------------------------------


def test_retry_now_queues_a_failed_download_and_refuses_an_imported_one(site):
    failed = DownloadFactory(title="Oathbringer", status=DownloadStatus.FAILED, retry_count=1)
    imported = DownloadFactory(title="Warbreaker", status=DownloadStatus.IMPORTED)

    messages = act(site, "retry_now", failed, imported)

    assert stored(failed).status == DownloadStatus.QUEUED
    assert stored(failed).transitions[-1]["reason"] == "retry requested by root"
    assert stored(imported).status == DownloadStatus.IMPORTED
    assert stored(imported).transitions == []
    assert any(m.startswith("Requeued 1 download(s).") and "Oathbringer" in m for m in messages)
    assert any("Warbreaker" in m and "Only a failed download can be retried" in m for m in messages)


def test_cancel_cancels_what_may_be_cancelled(site):
    queued = DownloadFactory(status=DownloadStatus.QUEUED)
    imported = DownloadFactory(status=DownloadStatus.IMPORTED)

    messages = act(site, "cancel", queued, imported)

    assert stored(queued).status == DownloadStatus.CANCELLED
    assert stored(queued).transitions[-1]["reason"] == "cancelled by root"
    assert stored(imported).status == DownloadStatus.IMPORTED
    assert any("cannot be cancelled" in m for m in messages)


def test_cancel_and_remove_reports_an_unreachable_client_and_changes_nothing(site, settings):
    settings.QBITTORRENT_URL = f"http://127.0.0.1:{free_port()}"
    settings.QBITTORRENT_TIMEOUT = 2
    downloading = DownloadFactory(title="Elantris", status=DownloadStatus.DOWNLOADING)

    messages = act(site, "cancel_and_remove_torrent", downloading)

    assert stored(downloading).status == DownloadStatus.DOWNLOADING
    assert len(messages) == 1
    assert "Elantris" in messages[0]
    assert "qBittorrent" in messages[0]


@pytest.mark.integration
def test_cancel_and_remove_takes_the_torrent_out_of_qbittorrent(site, settings, qbittorrent_server):  # noqa: F811
    settings.QBITTORRENT_URL = qbittorrent_server.url
    data = mam_fake.torrent_bytes("Admin Cancel Remove Test")
    client = QbittorrentClient()
    client.add_torrent(torrent_bytes=data, tags=["mamcrawler"])
    download = DownloadFactory(status=DownloadStatus.DOWNLOADING, info_hash=info_hash(data), torrent_file=data)
    assert client.torrent(download.info_hash) is not None

    messages = act(site, "cancel_and_remove_torrent", download)

    assert stored(download).status == DownloadStatus.CANCELLED
    assert "torrent removed" in stored(download).transitions[-1]["reason"]
    assert client.torrent(download.info_hash) is None
    assert any(m.startswith("Cancelled and removed from qBittorrent 1 download(s).") for m in messages)


def test_reimport_refuses_a_download_that_has_not_finished(site):
    queued = DownloadFactory(status=DownloadStatus.QUEUED)

    messages = act(site, "reimport", queued)

    assert stored(queued).status == DownloadStatus.QUEUED
    assert any("cannot be imported" in m for m in messages)


# --- pages -------------------------------------------------------------------------------------


def test_downloads_cannot_be_added_and_their_status_cannot_be_edited(site):
    download = DownloadFactory(
        title="Mistborn", status=DownloadStatus.FAILED, torrent_file=b"d4:infod4:name13:secret-bytesee"
    )
    download.transitions = [{"from": "downloading", "to": "failed", "at": "2024-05-01T10:00:00+00:00", "reason": "x"}]
    download.save()
    change = reverse("admin:downloads_download_change", args=[download.pk])

    assert site.get(reverse("admin:downloads_download_add")).status_code == 403
    page = site.get(change).content.decode()
    assert "secret-bytes" not in page
    assert "<td>downloading</td><td>failed</td>" in page
    site.post(change, {"title": "Mistborn", "author": "", "priority": 1, "max_retries": 3, "status": "imported"})
    assert (stored(download).status, stored(download).priority) == (DownloadStatus.FAILED, 1)


def test_the_download_list_shows_progress_size_and_the_gap(site):
    DownloadFactory(title="Skyward", progress=0.425, size_bytes=int(1.5 * GIB))

    page = site.get(reverse(CHANGELIST)).content.decode()

    assert "42%" in page or "43%" in page
    assert "1.5\xa0GB" in page


def test_the_guard_verdict_says_why_paid_downloads_are_held(site):
    MamAccountSnapshot.objects.create(
        username="reader",
        ratio=Decimal("1.1"),
        uploaded_bytes=110 * GIB,
        downloaded_bytes=99 * GIB,
        unsat_count=3,
        unsat_limit=50,
    )

    page = site.get(reverse("admin:downloads_mamaccountsnapshot_changelist")).content.decode()

    assert "Paid downloads: held: ratio 1.10 below 1.5" in page
    assert "110.0\xa0GB" in page
    assert "3/50" in page


def test_the_guard_verdict_allows_paid_downloads_with_a_healthy_account(site):
    MamAccountSnapshot.objects.create(
        uploaded_bytes=300 * GIB, downloaded_bytes=100 * GIB, unsat_count=3, unsat_limit=50
    )

    page = site.get(reverse("admin:downloads_mamaccountsnapshot_changelist")).content.decode()

    assert "<strong>Paid downloads: allowed</strong>" in page


def test_without_a_snapshot_the_guard_verdict_holds_paid_downloads(site):
    page = site.get(reverse("admin:downloads_mamaccountsnapshot_changelist")).content.decode()

    assert "Paid downloads: held: no MAM account snapshot yet" in page


def test_snapshots_are_view_only(site):
    snapshot = MamAccountSnapshot.objects.create(username="reader")

    assert site.get(reverse("admin:downloads_mamaccountsnapshot_add")).status_code == 403
    page = site.get(reverse("admin:downloads_mamaccountsnapshot_change", args=[snapshot.pk])).content.decode()
    assert 'name="username"' not in page


def test_the_session_page_never_shows_the_cookie(site):
    MamSession.objects.create(
        pk=MamSession.SINGLETON_ID, mam_id="super-secret-cookie-value", expired=True, last_error="MAM: session expired"
    )

    listing = site.get(reverse("admin:downloads_mamsession_changelist")).content.decode()
    page = site.get(reverse("admin:downloads_mamsession_change", args=[MamSession.SINGLETON_ID])).content.decode()

    assert "MAM: session expired" in listing
    assert "MAM: session expired" in page
    assert "super-secret-cookie-value" not in listing
    assert "super-secret-cookie-value" not in page
