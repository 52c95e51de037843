"""Writes of the audit log: one function, used by the API hook and the admin site."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from mamcrawler.audit.models import USER_AGENT_LENGTH, AuditLog

logger = logging.getLogger("mamcrawler.audit")

REDACTED = "***"
# Field names whose values are never stored; any name containing one of SECRET_PARTS neither.
SECRET_NAMES = frozenset(
    {"password", "current_password", "key", "secret", "token", "refresh", "access", "api_key", "cookie", "session"}
)
SECRET_PARTS = ("password", "secret", "token", "cookie", "session", "hashed_key", "api_key")
MAX_STRING = 500
MAX_ITEMS = 100
MAX_DEPTH = 6


def is_secret(name: Any) -> bool:
    """Whether a field called ``name`` may hold a credential."""
    lowered = str(name).lower()
    return lowered in SECRET_NAMES or any(part in lowered for part in SECRET_PARTS)


def redact(data: Any, *, depth: int = 0) -> Any:
    """``data`` safe to store: secret-like fields become ``***``, files their name, long values cut."""
    if depth > MAX_DEPTH:
        return "…"
    if isinstance(data, UploadedFile):
        return {"file": data.name, "size": data.size}
    if isinstance(data, Mapping):
        getlist = getattr(data, "getlist", None)
        result = {}
        for name in list(data)[:MAX_ITEMS]:
            if is_secret(name):
                result[str(name)] = REDACTED
                continue
            # A QueryDict (form or multipart body) keeps repeated fields as lists.
            values = getlist(name) if getlist else None
            value = data[name] if values is None or len(values) == 1 else values
            result[str(name)] = redact(value, depth=depth + 1)
        return result
    if isinstance(data, list | tuple):
        return [redact(item, depth=depth + 1) for item in data[:MAX_ITEMS]]
    if isinstance(data, str):
        return data if len(data) <= MAX_STRING else data[:MAX_STRING] + "…"
    if data is None or isinstance(data, bool | int | float):
        return data
    return str(data)[:MAX_STRING]


def _ip_or_none(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def audit_record(
    *,
    action: str,
    user=None,
    api_key=None,
    object_type: str = "",
    object_id: Any = "",
    changes: Any = None,
    ip: str | None = None,
    user_agent: str = "",
    request_id: str = "",
) -> AuditLog:
    """Store one audit entry; ``changes`` is redacted here, so callers cannot forget to.

    Side effects: one AuditLog row.
    """
    return AuditLog.objects.create(
        action=action[:100],
        user=user if getattr(user, "is_authenticated", False) else None,
        api_key=api_key,
        object_type=(object_type or "")[:100],
        object_id="" if object_id is None else str(object_id)[:64],
        changes=redact(changes) if changes is not None else None,
        ip=_ip_or_none(ip),
        user_agent=(user_agent or "")[:USER_AGENT_LENGTH],
        request_id=(request_id or "")[:128],
    )


def request_details(request) -> dict:
    """Who and where for ``request`` (a Django or DRF request): user, API key, IP, UA, request id."""
    # Imported here: the accounts app's admin imports this module, and ApiKey lives there.
    from mamcrawler.accounts.models import ApiKey
    from mamcrawler.api.request_id import request_id_for

    auth = getattr(request, "auth", None)
    return {
        "user": getattr(request, "user", None),
        "api_key": auth if isinstance(auth, ApiKey) else None,
        "ip": request.META.get("REMOTE_ADDR"),
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
        "request_id": request_id_for(request),
    }
