"""``/api/v1/notifications/``: targets (admins write), the test action, deliveries and their filters."""

from __future__ import annotations

import logging

import pytest
from werkzeug import Response

from mamcrawler.audit.models import AuditLog
from notifications.events import envelope
from notifications.models import Delivery, Target

pytestmark = pytest.mark.django_db

TARGETS = "/api/v1/notifications/targets/"
DELIVERIES = "/api/v1/notifications/deliveries/"
SECRET = "do-not-show-this-secret-9f8e7d"


@pytest.fixture
def hook_url(httpserver, allow_private):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    return httpserver.url_for("/hook")


def test_an_admin_creates_a_target_and_its_secret_is_never_answered(admin_client, hook_url, caplog):
    caplog.set_level(logging.DEBUG)
    body = {"name": "Home", "kind": "webhook", "url": hook_url, "secret": SECRET, "events": ["book_imported"]}

    created = admin_client.post(TARGETS, body, format="json")
    target_id = created.json()["id"]
    answers = [
        created,
        admin_client.get(TARGETS),
        admin_client.get(f"{TARGETS}{target_id}/"),
        admin_client.patch(f"{TARGETS}{target_id}/", {"enabled": False}, format="json"),
        admin_client.post(f"{TARGETS}{target_id}/test/"),
    ]

    assert created.status_code == 201, created.content
    assert all(SECRET not in answer.content.decode() for answer in answers)
    assert created.json()["has_secret"] is True and "secret" not in created.json()
    assert Target.objects.get().secret == SECRET  # kept to sign with
    assert SECRET not in caplog.text
    assert all(SECRET not in str(entry.changes) for entry in AuditLog.objects.all())


def test_events_are_checked_against_the_known_events(admin_client, hook_url):
    response = admin_client.post(
        TARGETS, {"name": "x", "kind": "webhook", "url": hook_url, "events": ["book_imported", "coffee"]}, format="json"
    )

    assert response.status_code == 422
    (error,) = response.json()["context"]["validation_errors"]
    assert error["loc"][:2] == ["body", "events"]


@pytest.mark.parametrize("fixture", ["viewer_client", "editor_client"])
def test_only_admins_change_targets_but_viewers_may_list_them(request, fixture, hook_url):
    client = request.getfixturevalue(fixture)
    target = Target.objects.create(name="Home", kind="webhook", url=hook_url)

    assert client.get(TARGETS).status_code == 200
    assert client.post(TARGETS, {"name": "x", "kind": "webhook", "url": hook_url}, format="json").status_code == 403
    assert client.delete(f"{TARGETS}{target.pk}/").status_code == 403
    assert client.post(f"{TARGETS}{target.pk}/test/").status_code == 403


def test_the_test_action_sends_at_once_and_answers_the_delivery(admin_client, httpserver, allow_private):
    received = []
    httpserver.expect_request("/hook").respond_with_handler(lambda r: received.append(r.json) or Response("ok"))
    target = Target.objects.create(name="Home", kind="webhook", url=httpserver.url_for("/hook"), enabled=False)

    response = admin_client.post(f"{TARGETS}{target.pk}/test/")

    assert response.status_code == 200
    body = response.json()
    assert (body["event"], body["status"], body["attempts"], body["response_code"]) == ("test", "delivered", 1, 200)
    assert received[0]["event"] == "test" and received[0]["data"]["target"] == "Home"


def test_a_failing_test_answers_the_failed_delivery_without_retrying(admin_client, httpserver, allow_private):
    httpserver.expect_request("/hook").respond_with_data("nope", status=500)
    target = Target.objects.create(name="Home", kind="webhook", url=httpserver.url_for("/hook"))

    body = admin_client.post(f"{TARGETS}{target.pk}/test/").json()

    assert (body["status"], body["response_code"], body["next_attempt_at"]) == ("failed", 500, None)
    assert "HTTP 500" in body["error"]


def _deliveries(target, count, **fields):
    return Delivery.objects.bulk_create(
        Delivery(
            target=target,
            event=fields.get("event", "job_failed"),
            payload=envelope("job_failed", {}),
            **{k: v for k, v in fields.items() if k != "event"},
        )
        for _ in range(count)
    )


def test_deliveries_filter_by_target_event_status_and_time(viewer_client):
    home = Target.objects.create(name="Home", kind="webhook", url="http://example.com/a")
    work = Target.objects.create(name="Work", kind="webhook", url="http://example.com/b")
    _deliveries(home, 2, status="delivered")
    _deliveries(work, 1, status="failed", event="gaps_found")

    def ids(query):
        response = viewer_client.get(DELIVERIES, query)
        assert response.status_code == 200, response.content
        return response.json()["count"]

    assert ids({"target": home.pk}) == 2
    assert ids({"event": "gaps_found"}) == 1
    assert ids({"status": "failed"}) == 1
    assert ids({"created_after": "2000-01-01T00:00:00Z"}) == 3
    assert ids({"created_before": "2000-01-01T00:00:00Z"}) == 0
    assert viewer_client.get(DELIVERIES, {"status": "lost"}).status_code == 422


@pytest.mark.parametrize("rows", [3, 30])
def test_listing_deliveries_costs_the_same_queries_for_3_and_30_rows(viewer_client, django_assert_num_queries, rows):
    target = Target.objects.create(name="Home", kind="webhook", url="http://example.com/a")
    _deliveries(target, rows)

    # 1 the throttle counter upsert, 2 COUNT of deliveries, 3 the page (targets by id: no join)
    with django_assert_num_queries(3):
        assert viewer_client.get(DELIVERIES).json()["count"] == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_listing_targets_costs_the_same_queries_for_3_and_30_rows(viewer_client, django_assert_num_queries, rows):
    Target.objects.bulk_create(Target(name=f"t{i}", kind="apprise", url=f"json://example.com/{i}") for i in range(rows))

    # 1 the throttle counter upsert, 2 COUNT of targets, 3 the page of targets
    with django_assert_num_queries(3):
        assert viewer_client.get(TARGETS).json()["count"] == rows
