"""Fixtures for notifications: targets pointing at a local receiver (pytest-httpserver on 127.0.0.1)."""

from __future__ import annotations

import pytest

from notifications.models import Target


@pytest.fixture
def allow_private(settings):
    """The receivers of these tests listen on 127.0.0.1, a loopback address refused by default."""
    settings.NOTIFY_ALLOW_PRIVATE = True


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """``with send():`` runs what was handed to the worker (django-q2 runs tasks inline in tests)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def webhook(db, httpserver, allow_private):
    """``webhook(path="/hook", **fields)`` → a webhook Target at the local receiver."""

    def make(path="/hook", **fields):
        fields.setdefault("name", f"hook {path}")
        return Target.objects.create(kind="webhook", url=httpserver.url_for(path), **fields)

    return make
