"""``/api/v1/admin/audit-logs/``: read-only, filtered, ordered, paged, constant query count."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mamcrawler.accounts.services import api_key_create
from mamcrawler.api.throttling import TieredThrottleMixin
from mamcrawler.audit.models import AuditLog
from mamcrawler.audit.services import audit_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/audit-logs/"
FIELDS = {
    "id",
    "created_at",
    "user",
    "username",
    "api_key",
    "api_key_prefix",
    "action",
    "object_type",
    "object_id",
    "changes",
    "ip",
    "user_agent",
    "request_id",
}


def _entries(count):
    users = UserFactory.create_batch(2)
    key, _ = api_key_create(user=users[0], name="k", scopes=["write"])
    for index in range(count):
        audit_record(
            action="books.partial_update" if index % 2 else "gaps.partial_update",
            user=users[index % 2],
            api_key=key if index % 3 == 0 else None,
            object_type="library.book",
            object_id=index,
            changes={"title": f"T{index}"},
            ip="127.0.0.1",
            request_id=f"req-{index}",
        )
    return users, key


def test_an_entry_has_the_documented_fields(admin_client):
    users, key = _entries(1)

    body = admin_client.get(URL).json()
    entry = body["results"][0]
    assert set(entry) == FIELDS
    assert (entry["username"], entry["api_key_prefix"]) == (users[0].username, key.prefix)
    assert admin_client.get(f"{URL}{entry['id']}/").json() == entry


def test_the_log_is_read_only_and_for_admins(admin_client, editor_client):
    _entries(1)
    entry = AuditLog.objects.get()

    assert editor_client.get(URL).status_code == 403
    assert admin_client.post(URL, {"action": "x"}, format="json").status_code == 405
    assert admin_client.delete(f"{URL}{entry.pk}/").status_code == 405
    assert admin_client.patch(f"{URL}{entry.pk}/", {"action": "x"}, format="json").status_code == 405


def test_the_filters(admin_client):
    users, key = _entries(6)
    old = AuditLog.objects.get(object_id="5")
    AuditLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    cutoff = (timezone.now() - timedelta(days=1)).isoformat()

    def ids(**params):
        return sorted(int(row["object_id"]) for row in admin_client.get(URL, params).json()["results"])

    assert ids(user=users[1].pk) == [1, 3, 5]
    assert ids(api_key=key.pk) == [0, 3]
    assert ids(action="gaps.partial_update") == [0, 2, 4]
    assert ids(action_prefix="books.") == [1, 3, 5]
    assert ids(object_type="library.book", object_id="4") == [4]
    assert ids(request_id="req-2") == [2]
    assert ids(created_before=cutoff) == [5]
    assert ids(created_after=cutoff) == [0, 1, 2, 3, 4]
    assert admin_client.get(URL, {"created_after": "yesterday"}).status_code == 422
    assert admin_client.get(URL, {"user": "bob"}).status_code == 422


def test_ordering_and_paging(admin_client):
    _entries(5)
    AuditLog.objects.filter(object_id="0").update(created_at=timezone.now() + timedelta(hours=1))

    default = [row["object_id"] for row in admin_client.get(URL).json()["results"]]
    oldest_first = [row["object_id"] for row in admin_client.get(URL, {"ordering": "created_at"}).json()["results"]]
    page = admin_client.get(URL, {"limit": 2, "offset": 2}).json()

    assert default[0] == "0" and default[1:] == ["4", "3", "2", "1"]
    assert oldest_first == ["1", "2", "3", "4", "0"]
    assert page["count"] == 5 and len(page["results"]) == 2
    assert admin_client.get(URL, {"ordering": "changes"}).status_code == 422


@pytest.fixture
def without_throttle_counter(monkeypatch):
    """Leave the throttle out of the counts: its counter upsert is per request, not per row."""
    monkeypatch.setattr(TieredThrottleMixin, "get_throttles", lambda self: [])


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_takes_two_queries_whatever_the_size(
    admin_client, django_assert_num_queries, without_throttle_counter, rows
):
    _entries(rows)
    # 1 COUNT of entries, 2 the page joined with users and API keys.
    with django_assert_num_queries(2):
        response = admin_client.get(URL, {"limit": 50, "ordering": "-created_at", "action_prefix": "b"})
    assert response.json()["count"] == rows // 2


@pytest.mark.parametrize("rows", [3, 30])
def test_the_unfiltered_list_takes_two_queries(admin_client, django_assert_num_queries, without_throttle_counter, rows):
    _entries(rows)
    # 1 COUNT of entries, 2 the page joined with users and API keys.
    with django_assert_num_queries(2):
        response = admin_client.get(URL, {"limit": 50})
    assert len(response.json()["results"]) == rows
