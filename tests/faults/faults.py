"""Faults staged on a pytest-httpserver in front of the fakes the other tests use.

``inject(server, pattern, mode)`` queues one-shot handlers for ``pattern``; pytest-httpserver
consults one-shot handlers before the permanent ones a fake installed, so the next requests
to that path fail by ``mode`` and the fake answers again once ``heal(server)`` drops them.
Modes: ``timeout`` (stall past the client's timeout), ``500``, ``429`` (with ``Retry-After``),
``html`` (an HTML page with status 200) and ``truncated`` (JSON cut off mid-object).
"""

from __future__ import annotations

import re
import time

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

MODES = ("timeout", "500", "429", "html", "truncated")
CLIENT_TIMEOUT = 0.3
STALL_SECONDS = 0.8
RETRY_AFTER = 2
# Every failing request of a run takes one handler: enough for a run's retries and pages.
SHOTS = 30


def fault_response(mode: str, request: Request) -> Response:
    if mode == "timeout":
        time.sleep(STALL_SECONDS)
        return Response("{}", status=200, content_type="application/json")
    if mode == "500":
        return Response("Internal Server Error", status=500, content_type="text/plain")
    if mode == "429":
        return Response("Too Many Requests", status=429, headers={"Retry-After": str(RETRY_AFTER)})
    if mode == "html":
        return Response("<html><body><h1>502 Bad Gateway</h1></body></html>", status=200, content_type="text/html")
    if mode == "truncated":
        return Response('{"data": [{"id": 1, "title": "The Way of', status=200, content_type="application/json")
    raise ValueError(mode)


def inject(server: HTTPServer, pattern: str, mode: str, *, shots: int = SHOTS) -> None:
    """Make the next ``shots`` requests whose path matches ``pattern`` (a regex) fail by ``mode``."""
    compiled = re.compile(pattern)
    for _ in range(shots):
        server.expect_oneshot_request(compiled).respond_with_handler(lambda request: fault_response(mode, request))


def heal(server: HTTPServer) -> None:
    """Drop the faults not yet used: the fakes answer normally again."""
    server.oneshot_handlers.clear()


def readable(text: str, *secrets: str) -> bool:
    """An error a person can read: not empty, no traceback, none of the secrets."""
    return (
        bool(text.strip())
        and not any(marker in text for marker in ("Traceback", 'File "'))
        and not any(secret and secret in text for secret in secrets)
    )
