"""Apprise targets: sent through the apprise package, their URLs' credentials never shown."""

from __future__ import annotations

import pytest
from werkzeug import Response

from notifications.events import notify
from notifications.models import Delivery, Target

pytestmark = pytest.mark.django_db

TARGETS = "/api/v1/notifications/targets/"


def test_a_json_apprise_target_posts_to_its_server(httpserver, allow_private, send):
    received = []
    httpserver.expect_request("/notify", method="POST").respond_with_handler(
        lambda request: received.append(request.json) or Response("ok")
    )
    Target.objects.create(name="json", kind="apprise", url=f"json://127.0.0.1:{httpserver.port}/notify")

    with send():
        notify("gaps_found", {"gaps_new": 4})

    (message,) = received
    assert message["title"] == "MAMcrawler: gaps found" and "4 new gap(s)" in message["message"]
    assert Delivery.objects.get().status == "delivered"


def test_an_apprise_failure_is_retried_and_its_error_names_no_credential(httpserver, allow_private, send):
    httpserver.expect_request("/notify").respond_with_data("down", status=500)
    url = f"json://alice:pa55word-xyz@127.0.0.1:{httpserver.port}/notify"
    Target.objects.create(name="json", kind="apprise", url=url)

    with send():
        notify("gaps_found", {"gaps_new": 4})

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.error and "pa55word-xyz" not in delivery.error


def test_an_apprise_url_is_answered_masked_and_a_masked_url_sent_back_keeps_the_real_one(admin_client):
    url = "discord://123456789/abcdefghTOKENxyz"
    created = admin_client.post(TARGETS, {"name": "chat", "kind": "apprise", "url": url}, format="json")
    assert created.status_code == 201, created.content
    shown = created.json()["url"]
    assert "abcdefghTOKENxyz" not in shown and shown.startswith("discord://")

    changed = admin_client.put(f"{TARGETS}{created.json()['id']}/", {**created.json(), "name": "chat 2"}, format="json")

    assert changed.status_code == 200, changed.content
    target = Target.objects.get()
    assert (target.name, target.url) == ("chat 2", url)
