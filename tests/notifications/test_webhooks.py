"""Webhook delivery (SPEC §10.1): signed JSON POSTs, retries with backoff, refused redirects."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from notifications.events import notify
from notifications.models import Delivery
from notifications.services import deliveries_send_due

pytestmark = pytest.mark.django_db

SECRET = "s3cret-signing-key-for-tests"


def _recorder(httpserver, path="/hook", statuses=(200,)):
    """Answer ``statuses`` in turn (the last one repeats) and keep every request."""
    seen = []

    def handler(request):
        seen.append(request)
        return Response("ok", status=statuses[min(len(seen), len(statuses)) - 1])

    httpserver.expect_request(path, method="POST").respond_with_handler(handler)
    return seen


def _make_due():
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_webhook_gets_the_event_with_a_signature_it_can_verify(httpserver, webhook, send):
    seen = _recorder(httpserver)
    target = webhook(secret=SECRET)

    with send():
        assert notify("book_imported", {"book_id": 7, "title": "The Dispossessed"}) == 1

    (request,) = seen
    raw = request.get_data()
    timestamp = request.headers["X-MAMcrawler-Timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    assert request.headers["X-MAMcrawler-Signature"] == f"sha256={expected}"
    assert abs(int(timestamp) - time.time()) < 60
    body = json.loads(raw)
    assert body["event"] == "book_imported" and body["data"] == {"book_id": 7, "title": "The Dispossessed"}
    assert body["occurred_at"].endswith("Z")
    delivery = Delivery.objects.get(target=target)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None


def test_a_signature_made_with_another_secret_does_not_verify(httpserver, webhook, send):
    seen = _recorder(httpserver)
    webhook(secret=SECRET)

    with send():
        notify("gaps_found", {"gaps_new": 3})

    (request,) = seen
    forged = hmac.new(b"other", f"{request.headers['X-MAMcrawler-Timestamp']}.".encode() + request.get_data(), "sha256")
    assert request.headers["X-MAMcrawler-Signature"] != f"sha256={forged.hexdigest()}"


def test_a_webhook_without_a_secret_is_sent_unsigned(httpserver, webhook, send):
    seen = _recorder(httpserver)
    webhook()

    with send():
        notify("job_failed", {"job": "cleanup"})

    assert "X-MAMcrawler-Signature" not in seen[0].headers
    assert "X-MAMcrawler-Timestamp" not in seen[0].headers


def test_a_receiver_failing_twice_gets_three_attempts_and_one_delivered_delivery(httpserver, webhook, send):
    seen = _recorder(httpserver, statuses=(500, 500, 200))
    webhook()

    with send():
        notify("download_failed", {"download_id": 1})
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at > timezone.now() and "HTTP 500" in delivery.error

    assert deliveries_send_due()["due"] == 0  # not before its retry time
    _make_due()
    deliveries_send_due()
    _make_due()
    deliveries_send_due()

    delivery = Delivery.objects.get()
    assert len(seen) == 3
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.error) == ("delivered", 3, 200, "")


def test_the_wait_doubles_with_every_failed_attempt(httpserver, webhook, send, settings):
    settings.NOTIFY_RETRY_BASE_SECONDS = 30
    _recorder(httpserver, statuses=(503,))
    webhook()
    with send():
        notify("download_failed", {"download_id": 1})
    waits = []
    for _ in range(2):
        delivery = Delivery.objects.get()
        waits.append(round((delivery.next_attempt_at - timezone.now()).total_seconds()))
        _make_due()
        deliveries_send_due()
    assert waits == [30, 60]


def test_a_receiver_that_keeps_failing_is_given_up_after_the_maximum_attempts(httpserver, webhook, send, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    seen = _recorder(httpserver, statuses=(502,))
    webhook()

    with send():
        notify("download_failed", {"download_id": 1})
    _make_due()
    deliveries_send_due()
    _make_due()
    deliveries_send_due()

    delivery = Delivery.objects.get()
    assert len(seen) == 2
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)


def test_a_redirect_is_not_followed_and_fails_the_delivery(httpserver, webhook, send):
    httpserver.expect_request("/hook").respond_with_data("", status=302, headers={"Location": "/elsewhere"})
    webhook()

    with send():
        notify("job_failed", {"job": "cleanup"})

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("failed", 302, 1)
    assert "redirect" in delivery.error
    assert all(request.path != "/elsewhere" for request, _ in httpserver.log)


def test_a_client_error_fails_at_once(httpserver, webhook, send):
    seen = _recorder(httpserver, statuses=(404,))
    webhook()

    with send():
        notify("job_failed", {"job": "cleanup"})
    _make_due()
    deliveries_send_due()

    assert len(seen) == 1
    assert Delivery.objects.get().status == "failed"


def test_a_receiver_that_is_down_is_retried_with_the_connection_error_recorded(webhook, send, httpserver):
    target = webhook()
    httpserver.stop()  # nothing listens there any more

    with send():
        notify("job_failed", {"job": "cleanup"})

    delivery = Delivery.objects.get(target=target)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, None)
    assert "ConnectError" in delivery.error
    httpserver.start()


def test_a_delivery_is_sent_once_even_when_the_sweep_and_its_task_both_pick_it(
    httpserver, webhook, django_capture_on_commit_callbacks
):
    seen = _recorder(httpserver)
    webhook()
    with django_capture_on_commit_callbacks() as handed_to_worker:
        notify("job_failed", {"job": "cleanup"})
    _make_due()
    deliveries_send_due()  # the sweep gets there first

    for callback in handed_to_worker:
        callback()  # then the task runs

    assert len(seen) == 1
    assert Delivery.objects.get().attempts == 1
