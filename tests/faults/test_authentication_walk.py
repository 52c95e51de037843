"""Every API endpoint refuses an anonymous request with 401 in the error shape (SPEC §6.1).

Walks the same URL list as ``tests/api/test_tiers.py``; only the schema, the docs and the
token endpoints are open.
"""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from tests.api.test_tiers import ENDPOINTS

pytestmark = pytest.mark.django_db

OPEN = {"/api/schema/", "/api/docs/", "/api/redoc/", "/api/v1/auth/token/", "/api/v1/auth/token/refresh/"}
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")
VALUES = {"name": "cleanup"}


def concrete(route: str) -> str:
    return _GROUP.sub(lambda match: VALUES.get(match["name"], "1"), route)


CLOSED = [(route, method) for (route, method), _ in ENDPOINTS if route not in OPEN and "format" not in route]


def test_the_walk_covers_the_api():
    assert len(CLOSED) > 40


@pytest.mark.parametrize(("route", "method"), CLOSED, ids=[f"{m.upper()} {r}" for r, m in CLOSED])
def test_an_anonymous_request_is_401(route, method):
    response = getattr(APIClient(), method)(concrete(route), {}, format="json")

    assert response.status_code == 401, f"{method.upper()} {route}: {response.status_code}"
    assert response.json()["error"] == "unauthorized"
