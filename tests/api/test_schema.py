"""The OpenAPI schema: served without auth, valid, complete, and warning-free."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _walk(patterns, prefix=""):
    """Every (route, callback) under the URLconf, parameters written ``{}``."""
    for pattern in patterns:
        if "<format>" in str(pattern.pattern):  # DRF's ``.json`` suffix variants, not separate endpoints
            continue
        route = prefix + _route(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def _route(pattern) -> str:
    text = re.sub(r"\(\?P<\w+>[^)]*\)", "{}", str(pattern))  # regex groups (routers)
    text = re.sub(r"<(?:\w+:)?\w+>", "{}", text)  # path converters
    return text.lstrip("^").rstrip("$").replace("\\.", ".")


def _shape(path: str) -> str:
    """A path with its parameter names dropped (the schema calls ``pk`` ``id``)."""
    return re.sub(r"\{\w+\}", "{}", path)


def api_routes():
    routes = set()
    for route, callback in _walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        if not route.startswith("api/v1/"):
            continue
        if getattr(view, "schema", True) is None:  # e.g. the router's API root, excluded on purpose
            continue
        routes.add("/" + route)
    return routes


def test_the_schema_is_served_without_authentication(api_client):
    response = api_client.get("/api/schema/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_every_api_route_is_in_the_schema(schema):
    documented = {_shape(path) for path in schema["paths"]}

    missing = sorted(route for route in api_routes() if route not in documented)

    assert api_routes(), "no /api/v1/ routes found"
    assert not missing


def test_the_auth_endpoints_are_documented_with_their_shapes(schema):
    paths = schema["paths"]

    token = paths["/api/v1/auth/token/"]["post"]
    assert token["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("TokenObtainInputRequest")
    assert token["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/TokenPair")
    assert token.get("security") in (None, [])  # open
    me = paths["/api/v1/auth/me/"]["get"]
    assert me["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Me")
    assert {"ApiKeyAuth", "jwtAuth"} <= {name for entry in me["security"] for name in entry}
    assert "204" in paths["/api/v1/auth/logout/"]["post"]["responses"]


def test_schema_generation_has_no_warnings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_are_served_without_authentication(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 200
    assert b"/api/schema/" in response.content
