"""Request ids (SPEC §5.2): keep a safe incoming ``X-Request-ID`` or make one."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

HEADER = "X-Request-ID"
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex[:12]


def current_request_id() -> str | None:
    return _current.get()


def request_id_for(request) -> str:
    """The id of ``request`` (set by the middleware; made here when it did not run)."""
    value = getattr(request, "request_id", None)
    if value is None:
        inner = getattr(request, "_request", None)
        value = getattr(inner, "request_id", None)
    return value or current_request_id() or new_request_id()


class RequestIdMiddleware:
    """Attach the id to the request, the logging context and the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        request.request_id = incoming if _SAFE.match(incoming) else new_request_id()
        token = _current.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request.request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Put ``request_id`` on every log record ("-" outside a request)."""

    def filter(self, record):
        record.request_id = current_request_id() or "-"
        return True
