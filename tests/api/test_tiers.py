"""Every API endpoint declares exactly one throttle tier (SPEC §6.3)."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIRequestFactory

from mamcrawler.api.throttling import TIERS, TierThrottle

EXPECTED = {
    ("/api/schema/", "get"): "public",
    ("/api/docs/", "get"): "public",
    ("/api/redoc/", "get"): "public",
    ("/api/v1/auth/token/", "post"): "public",
    ("/api/v1/auth/token/refresh/", "post"): "public",
    ("/api/v1/books/search/", "get"): "search",
    ("/api/v1/downloads/", "get"): "read",
    ("/api/v1/downloads/", "post"): "download",
    ("/api/v1/downloads/upload/", "post"): "upload",
    ("/api/v1/downloads/queue/", "post"): "download",
    ("/api/v1/downloads/sync/", "post"): "write",
    ("/api/v1/downloads/(?P<pk>[^/.]+)/retry/", "post"): "write",
    ("/api/v1/downloads/(?P<pk>[^/.]+)/cancel/", "post"): "write",
    ("/api/v1/gaps/(?P<pk>[^/.]+)/search/", "get"): "search",
    ("/api/v1/gaps/(?P<pk>[^/.]+)/acquire/", "post"): "download",
    ("/api/v1/gaps/acquire/", "post"): "download",
    ("/api/v1/scheduler/run-all/", "post"): "admin",
    ("/api/v1/system/logs/", "get"): "admin",
    ("/api/v1/system/integrations/", "get"): "read",
    ("/api/v1/system/configuration/", "get"): "read",
    ("/api/v1/scheduler/jobs/(?P<name>[a-z0-9_]+)/run/", "post"): "write",
    ("/api/v1/admin/users/", "get"): "admin",
    ("/api/v1/admin/users/", "post"): "admin",
    ("/api/v1/admin/users/(?P<pk>[^/.]+)/password/", "post"): "admin",
    ("/api/v1/admin/api-keys/", "post"): "admin",
    ("/api/v1/admin/api-keys/(?P<pk>[^/.]+)/revoke/", "post"): "admin",
    ("/api/v1/admin/audit-logs/", "get"): "admin",
    ("/api/v1/admin/maintenance/cleanup/", "post"): "admin",
    ("/api/v1/admin/maintenance/backup/", "post"): "admin",
    ("/api/v1/admin/cache/clear/", "post"): "admin",
    ("/api/v1/notifications/targets/", "post"): "write",
    ("/api/v1/notifications/targets/(?P<pk>[^/.]+)/test/", "post"): "write",
    ("/api/v1/notifications/deliveries/", "get"): "read",
}


def _walk(patterns, prefix="/"):
    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^").rstrip("$").replace("\\", "")
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def _api_endpoints():
    for route, callback in _walk(get_resolver().url_patterns):
        if not route.startswith("/api/") or route == "/api/":
            continue
        if getattr(callback, "cls", None) is None:
            continue
        actions = getattr(callback, "actions", None)
        if actions:
            for method, action in actions.items():
                yield route, method, callback, action
        else:
            for method in callback.cls.http_method_names:
                if method != "options" and hasattr(callback.cls, method):
                    yield route, method, callback, None


ENDPOINTS = sorted(
    {(route, method): (callback, action) for route, method, callback, action in _api_endpoints()}.items()
)


def test_every_api_route_is_a_drf_view():
    plain = [
        route
        for route, callback in _walk(get_resolver().url_patterns)
        if route.startswith("/api/") and "format" not in route and getattr(callback, "cls", None) is None
    ]
    # Only the catch-all that answers JSON 404s for unknown routes is not a DRF view.
    assert plain == ["/api/"]


def test_the_walk_finds_the_endpoints():
    assert len(ENDPOINTS) > 40
    found = {key for key, _ in ENDPOINTS}
    assert set(EXPECTED) <= found, set(EXPECTED) - found


@pytest.mark.parametrize(("key", "view"), ENDPOINTS, ids=[f"{m.upper()} {r}" for (r, m), _ in ENDPOINTS])
def test_each_endpoint_has_exactly_one_tier(key, view):
    route, method = key
    callback, action = view
    instance = callback.cls(**getattr(callback, "initkwargs", {}))
    instance.request = getattr(APIRequestFactory(), method)(route)
    instance.action = action
    instance.format_kwarg = None
    throttles = instance.get_throttles()
    assert len(throttles) == 1, f"{method.upper()} {route} has {len(throttles)} tiers"
    assert isinstance(throttles[0], TierThrottle)
    assert throttles[0].scope in TIERS
    if key in EXPECTED:
        assert throttles[0].scope == EXPECTED[key]
