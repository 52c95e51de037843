"""Log lines carry the request id; LOG_FORMAT=json gives one JSON object per line."""

import json
import logging

from mamcrawler.api.logging import JsonFormatter
from mamcrawler.api.request_id import RequestIdLogFilter, _current


def _record(message="hello"):
    return logging.LogRecord("mamcrawler.test", logging.INFO, __file__, 1, message, None, None)


def test_the_filter_adds_the_current_request_id():
    token = _current.set("req_abc123abc123")
    try:
        record = _record()
        RequestIdLogFilter().filter(record)
    finally:
        _current.reset(token)
    assert record.request_id == "req_abc123abc123"


def test_outside_a_request_the_id_is_a_dash():
    record = _record()
    RequestIdLogFilter().filter(record)
    assert record.request_id == "-"


def test_json_lines_hold_level_logger_message_and_request_id():
    record = _record("book imported")
    record.request_id = "req_0123456789ab"
    line = JsonFormatter().format(record)
    payload = json.loads(line)
    assert payload["message"] == "book imported"
    assert payload["level"] == "INFO"
    assert payload["logger"] == "mamcrawler.test"
    assert payload["request_id"] == "req_0123456789ab"
    assert payload["time"].endswith("Z")
    assert "\n" not in line
