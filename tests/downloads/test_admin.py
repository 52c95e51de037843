"""The Download admin's "Retry now" action goes through the state machine."""

import pytest
from django.urls import reverse

from downloads.models import Download, DownloadStatus
from tests.downloads.factories import DownloadFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_retry_now_requeues_failed_downloads_and_leaves_the_others(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True, role="admin"))
    failed = DownloadFactory(status=DownloadStatus.FAILED, retry_count=1)
    downloading = DownloadFactory(status=DownloadStatus.DOWNLOADING)

    response = client.post(
        reverse("admin:downloads_download_changelist"),
        {"action": "retry_now", "_selected_action": [failed.pk, downloading.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Requeued 1 download(s)." in response.content.decode()
    stored = Download.objects.get(pk=failed.pk)
    assert stored.status == DownloadStatus.QUEUED
    assert stored.transitions[-1]["reason"] == "retry requested by root"
    assert Download.objects.get(pk=downloading.pk).status == DownloadStatus.DOWNLOADING
