"""``manage.py create_api_key``."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from mamcrawler.accounts.models import ApiKey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue().splitlines()


def test_it_prints_the_secret_alone_on_the_last_line_and_the_secret_authenticates():
    UserFactory(username="alice", role="editor")

    lines = run("--user", "alice", "--scopes", "read,write", "--name", "backup script")

    secret = lines[-1]
    key = ApiKey.objects.get()
    assert secret.startswith(key.prefix)
    assert " " not in secret
    assert key.name == "backup script"
    assert key.scopes == ["read", "write"]
    assert key.prefix in lines[0]
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=secret)
    response = client.get("/api/v1/auth/me/")
    assert response.status_code == 200
    assert response.json()["auth"] == {"method": "api_key", "scopes": ["read", "write"]}


def test_expires_days_sets_an_expiry():
    UserFactory(username="alice")

    run("--user", "alice", "--scopes", "read", "--expires-days", "30")

    key = ApiKey.objects.get()
    assert key.expires_at is not None
    assert 29 <= (key.expires_at - key.created_at).days <= 30


def test_an_unknown_scope_is_a_command_error_and_creates_nothing():
    UserFactory(username="alice")

    with pytest.raises(CommandError, match="Scopes"):
        run("--user", "alice", "--scopes", "read,superpowers")
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("scopes", ["", ",,"])
def test_empty_scopes_are_a_command_error(scopes):
    UserFactory(username="alice")

    with pytest.raises(CommandError):
        run("--user", "alice", "--scopes", scopes)


def test_an_unknown_user_is_a_command_error():
    with pytest.raises(CommandError, match="Unknown user: nobody"):
        run("--user", "nobody", "--scopes", "read")


def test_an_inactive_user_is_a_command_error():
    UserFactory(username="gone", is_active=False)

    with pytest.raises(CommandError, match="inactive"):
        run("--user", "gone", "--scopes", "read")


def test_a_non_positive_expiry_is_a_command_error():
    UserFactory(username="alice")

    with pytest.raises(CommandError, match="expires-days"):
        run("--user", "alice", "--scopes", "read", "--expires-days", "0")
