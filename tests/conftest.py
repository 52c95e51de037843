"""Shared fixtures: users of each role, authenticated API clients, API keys."""

import pytest
from rest_framework.test import APIClient

from mamcrawler.accounts.services import api_key_create
from tests.factories import UserFactory


@pytest.fixture
def api_client():
    """An anonymous client."""
    return APIClient()


@pytest.fixture
def admin_user(db):
    return UserFactory(username="boss", role="admin")


@pytest.fixture
def editor_user(db):
    return UserFactory(username="editor", role="editor")


@pytest.fixture
def viewer_user(db):
    return UserFactory(username="viewer", role="viewer")


def _client_for(user):
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def admin_client(admin_user):
    return _client_for(admin_user)


@pytest.fixture
def editor_client(editor_user):
    return _client_for(editor_user)


@pytest.fixture
def viewer_client(viewer_user):
    return _client_for(viewer_user)


@pytest.fixture
def api_key_client(db):
    """``api_key_client(user, scopes)`` → a client sending ``X-Api-Key``."""

    def make(user, scopes=("read",)):
        _key, secret = api_key_create(user=user, name="test", scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=secret)
        return client

    return make
