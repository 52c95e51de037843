"""The API's JSON renderer writes what DRF's would, faster (orjson underneath)."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from library.choices import BookStatus
from mamcrawler.api.renderers import JSONRenderer

VALUES = {
    "text": "Ünïcode – “quotes” \\ / \n\t and a line\u2028separator\u2029",
    "lazy": gettext_lazy("Not found."),
    "choice": BookStatus.ACTIVE,
    "when": datetime(2026, 11, 26, 23, 4, 5, 123456, tzinfo=UTC),
    "day": date(2026, 1, 2),
    "span": timedelta(minutes=90),
    "money": Decimal("2.50"),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "numbers": [0, -1, 2**63 - 1, 1.5, 1e16, True, None],
    "by_year": {2024: 3, 2025: 4},
    "tags": ("a", "b"),
    "nested": [{"deep": [{"deeper": {}}]}],
}


def test_the_text_is_the_same_json_as_drfs():
    ours = JSONRenderer().render(VALUES)
    drf = DRFJSONRenderer().render(VALUES)

    assert json.loads(ours) == json.loads(drf)
    assert b"\\u2028" in ours and b"\\u2029" in ours and b"\xe2\x80\xa8" not in ours


def test_values_orjson_refuses_take_drfs_path():
    huge = {"big": 2**70}

    assert JSONRenderer().render(huge) == DRFJSONRenderer().render(huge)


@pytest.mark.parametrize("media_type", ["application/json; indent=4", "application/json; indent=2"])
def test_indented_output_is_drfs(media_type):
    assert JSONRenderer().render(VALUES, media_type) == DRFJSONRenderer().render(VALUES, media_type)


def test_nothing_renders_as_an_empty_body():
    assert JSONRenderer().render(None) == b""


def test_the_api_answers_through_it(viewer_client):
    response = viewer_client.get("/api/v1/books/")

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert isinstance(response.accepted_renderer, JSONRenderer)
