"""The written-out API-key lookup gives what the ORM would, in one query."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mamcrawler.accounts.models import ApiKey, User
from mamcrawler.accounts.selectors import api_key_for_secret
from mamcrawler.accounts.services import api_key_create, api_key_revoke
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def field_values(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.fixture
def owner():
    user = UserFactory(username="scripter", role="editor", email="s@example.org", first_name="Sam")
    user.last_login = timezone.now() - timedelta(days=2)
    user.save()
    return user


def test_the_key_and_its_user_equal_what_the_orm_reads(owner):
    created, secret = api_key_create(
        user=owner, name="cron", scopes=["read", "write"], expires_at=timezone.now() + timedelta(days=30)
    )
    ApiKey.objects.filter(pk=created.pk).update(last_used_at=timezone.now())

    with CaptureQueriesContext(connection) as queries:
        key = api_key_for_secret(secret)

    assert len(queries) == 1
    assert field_values(key) == field_values(ApiKey.objects.get(pk=created.pk))
    assert field_values(key.user) == field_values(User.objects.get(pk=owner.pk))
    assert key.scopes == ["read", "write"]
    assert timezone.is_aware(key.created_at) and timezone.is_aware(key.user.last_login)
    assert key.role_cap == "editor"
    assert key._state.adding is False and key.user._state.adding is False


def test_a_wrong_secret_with_the_right_prefix_finds_nothing(owner):
    _key, secret = api_key_create(user=owner, name="cron", scopes=["read"])

    assert api_key_for_secret(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None


def test_revoked_and_expired_keys_and_inactive_users_find_nothing(owner):
    revoked, revoked_secret = api_key_create(user=owner, name="old", scopes=["read"])
    api_key_revoke(key=revoked)
    _expired, expired_secret = api_key_create(
        user=owner, name="gone", scopes=["read"], expires_at=timezone.now() - timedelta(seconds=1)
    )
    sleeper = UserFactory(username="sleeper", is_active=False)
    _key, sleeper_secret = api_key_create(user=sleeper, name="cron", scopes=["read"])

    assert api_key_for_secret(revoked_secret) is None
    assert api_key_for_secret(expired_secret) is None
    assert api_key_for_secret(sleeper_secret) is None
