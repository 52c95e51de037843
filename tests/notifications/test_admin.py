"""The notifications admin: the secret is never rendered, "Send a test notification" sends."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.models import Delivery, Target
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET = "admin-page-secret-42"


@pytest.fixture
def site(client):
    client.force_login(UserFactory(username="root", role="admin", is_staff=True, is_superuser=True))
    return client


def test_the_change_page_never_shows_the_secret_and_a_blank_box_keeps_it(site, httpserver, allow_private):
    hook = httpserver.url_for("/hook")
    target = Target.objects.create(name="home", kind="webhook", url=hook, secret=SECRET)
    url = reverse("admin:notifications_target_change", args=[target.pk])

    page = site.get(url)
    saved = site.post(url, {"name": "home 2", "kind": "webhook", "url": hook, "enabled": "on"})

    assert page.status_code == 200 and SECRET not in page.content.decode()
    assert saved.status_code == 302
    target.refresh_from_db()
    assert (target.name, target.secret) == ("home 2", SECRET)


def test_the_admin_refuses_a_link_local_webhook(site):
    response = site.post(
        reverse("admin:notifications_target_add"),
        {"name": "meta", "kind": "webhook", "url": "http://169.254.169.254/", "enabled": "on"},
    )

    assert response.status_code == 200 and "link-local" in response.content.decode()
    assert not Target.objects.exists()


def test_the_send_test_action_sends_to_each_selected_target(site, httpserver, allow_private):
    httpserver.expect_request("/hook").respond_with_data("ok")
    target = Target.objects.create(name="home", kind="webhook", url=httpserver.url_for("/hook"))

    response = site.post(
        reverse("admin:notifications_target_changelist"),
        {"action": "send_test", "_selected_action": [target.pk]},
        follow=True,
    )

    assert [str(message) for message in response.context["messages"]] == ["home: delivered."]
    assert Delivery.objects.get().event == "test"
