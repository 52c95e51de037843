"""Where notifications may go (SPEC §10.1): http(s) only, never link-local, private only when allowed."""

from __future__ import annotations

import ipaddress

import pytest

from notifications.events import notify
from notifications.models import Delivery, Target
from notifications.security import address_refusal

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/targets/"


def _create(client, url, kind="webhook"):
    return client.post(URL, {"name": "hook", "kind": kind, "url": url}, format="json")


def _url_error(response):
    assert response.status_code == 422, response.content
    (error,) = response.json()["context"]["validation_errors"]
    assert error["loc"] == ["body", "url"]
    return error["msg"]


@pytest.mark.parametrize("allowed", [False, True])
def test_the_cloud_metadata_address_is_refused_even_with_private_addresses_allowed(admin_client, settings, allowed):
    settings.NOTIFY_ALLOW_PRIVATE = allowed

    message = _url_error(_create(admin_client, "http://169.254.169.254/latest/meta-data/"))

    assert "link-local" in message
    assert not Target.objects.exists()


def test_loopback_is_refused_without_the_switch(admin_client, settings):
    settings.NOTIFY_ALLOW_PRIVATE = False

    message = _url_error(_create(admin_client, "http://127.0.0.1:8080/hook"))

    assert "loopback" in message and "NOTIFY_ALLOW_PRIVATE" in message


def test_a_name_resolving_to_loopback_is_refused_too(admin_client, settings):
    settings.NOTIFY_ALLOW_PRIVATE = False

    assert "loopback" in _url_error(_create(admin_client, "http://localhost:8080/hook"))


def test_loopback_is_allowed_with_the_switch(admin_client, settings):
    settings.NOTIFY_ALLOW_PRIVATE = True

    response = _create(admin_client, "http://127.0.0.1:8080/hook")

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "file:///etc/passwd", "gopher://127.0.0.1/", "http:///x"])
def test_only_http_urls_with_a_host_are_accepted(admin_client, settings, url):
    settings.NOTIFY_ALLOW_PRIVATE = True

    _url_error(_create(admin_client, url))


def test_a_host_that_does_not_resolve_is_refused(admin_client):
    assert "does not resolve" in _url_error(_create(admin_client, "http://no-such-host.invalid/hook"))


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:169.254.169.254", "link-local"),
        ("10.1.2.3", "private"),
        ("192.168.1.10", "private"),
        ("fd00::1", "private"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "not globally routable"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_rules(address, reason):
    assert address_refusal(ipaddress.ip_address(address), allow_private=False) == reason


def test_the_switch_never_allows_link_local():
    assert address_refusal(ipaddress.ip_address("169.254.0.1"), allow_private=True) == "link-local"
    assert address_refusal(ipaddress.ip_address("10.0.0.1"), allow_private=True) is None


def test_the_address_is_checked_again_when_sending(settings, httpserver, send):
    target = Target.objects.create(name="hook", kind="webhook", url=httpserver.url_for("/hook"))
    settings.NOTIFY_ALLOW_PRIVATE = False  # e.g. the name now resolves elsewhere

    with send():
        notify("job_failed", {"job": "cleanup"})

    delivery = Delivery.objects.get(target=target)
    assert delivery.status == "failed" and delivery.error.startswith("Refused:") and "loopback" in delivery.error
    assert httpserver.log == []


@pytest.mark.parametrize("url", ["json://169.254.169.254/x", "xmls://169.254.169.254/x", "form://127.0.0.1/x"])
def test_http_based_apprise_urls_get_the_same_address_check(admin_client, settings, url):
    settings.NOTIFY_ALLOW_PRIVATE = False

    _url_error(_create(admin_client, url, kind="apprise"))


def test_an_apprise_url_apprise_does_not_understand_is_refused(admin_client):
    assert "Apprise" in _url_error(_create(admin_client, "nosuchservice://token", kind="apprise"))
