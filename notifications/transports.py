"""Sending one message to one target: a signed webhook POST, or Apprise.

Each transport answers an ``Outcome``; it never raises for a failure of the receiver, and its
error texts never carry the target's secret or an Apprise URL (which may hold credentials).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from notifications.models import Target
from notifications.security import Unresolvable, UnsafeUrl, apprise_check, apprise_http_url, host_check, redact_url

logger = logging.getLogger("mamcrawler.notifications")

USER_AGENT = "MAMcrawler-notifications/1"
MAX_ERROR = 1000


@dataclass
class Outcome:
    delivered: bool
    response_code: int | None = None
    error: str = ""
    # Whether trying again later may help (connection problems, 5xx, 429); refusals do not.
    retryable: bool = False


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` as sent in ``X-MAMcrawler-Signature``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_send(target: Target, payload: dict) -> Outcome:
    """POST ``payload`` as JSON; redirects are not followed (a 3xx is a failure)."""
    try:
        host_check(target.url)
    except Unresolvable as exc:
        return Outcome(False, error=str(exc), retryable=True)
    except UnsafeUrl as exc:
        return Outcome(False, error=f"Refused: {exc}")
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-MAMcrawler-Event": str(payload.get("event", "")),
    }
    if target.secret:
        timestamp = str(int(time.time()))
        headers["X-MAMcrawler-Timestamp"] = timestamp
        headers["X-MAMcrawler-Signature"] = signature(target.secret, timestamp, body)
    try:
        response = httpx.post(
            target.url, content=body, headers=headers, timeout=settings.NOTIFY_TIMEOUT, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        shown = redact_url(target.url, kind=target.kind)
        text = str(exc).replace(target.url, shown) or type(exc).__name__
        return Outcome(False, error=f"{type(exc).__name__}: {text}"[:MAX_ERROR], retryable=True)
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(True, response_code=code)
    if 300 <= code < 400:
        return Outcome(False, response_code=code, error=f"HTTP {code}: redirects are not followed.")
    error = f"HTTP {code}: {response.text[:200]}".strip()
    return Outcome(False, response_code=code, error=error[:MAX_ERROR], retryable=code in (408, 425, 429) or code >= 500)


def message_text(payload: dict) -> tuple[str, str]:
    """A title and a plain-text body for chat and e-mail services."""
    event, data = payload.get("event", ""), payload.get("data") or {}
    if event == "digest":
        lines = [
            f"- {part['event']}: {_summary(part['event'], part.get('data') or {})}" for part in data.get("events", [])
        ]
        title = f"MAMcrawler: {len(lines)} event(s) from job {data.get('job') or data.get('job_run_id')}"
        return title, "\n".join(lines)
    return f"MAMcrawler: {event.replace('_', ' ')}", _summary(event, data)


def _summary(event: str, data: dict) -> str:
    if event == "book_imported":
        authors = ", ".join(data.get("authors") or [])
        return f"Imported {data.get('title', '?')}" + (f" by {authors}" if authors else "") + "."
    if event == "download_failed":
        return f"Download {data.get('title', data.get('download_id'))} failed: {data.get('error', '')}"
    if event == "download_held":
        return f"{data.get('title', '?')} held by the account guard: {data.get('reason', '')}"
    if event == "gaps_found":
        return f"{data.get('gaps_new', 0)} new gap(s) found."
    if event == "job_failed":
        return f"Job {data.get('job')} (run {data.get('job_run_id')}) failed: {data.get('error', '')}"
    if event == "integration_down":
        return f"{data.get('integration')} is unreachable: {data.get('error', '')}"
    if event == "mam_session_expired":
        return f"The MAM session expired: {data.get('reason', '')}. Set a new MAM_SESSION_ID."
    if event == "test":
        return "A test notification from MAMcrawler."
    return json.dumps(data, default=str)[:1000]


def apprise_send(target: Target, payload: dict) -> Outcome:
    """Notify through Apprise; its own log lines about the failure become the error text."""
    import apprise

    try:
        apprise_check(target.url)
    except UnsafeUrl as exc:
        return Outcome(False, error=f"Refused: {exc}")
    notifier = apprise.Apprise()
    if not notifier.add(target.url):
        return Outcome(False, error="Apprise does not understand this URL.")
    title, body = message_text(payload)
    with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
        try:
            delivered = notifier.notify(title=title, body=body)
        except Exception as exc:  # noqa: BLE001 - a plugin bug must end as a recorded failure
            delivered, captured_error = False, f"{type(exc).__name__}"
        else:
            captured_error = ""
        log_text = captured.getvalue()
    if delivered:
        return Outcome(True)
    lines = log_text.strip().splitlines()
    error = captured_error or (lines[-1] if lines else "") or "Apprise could not deliver the notification."
    return Outcome(False, error=_scrub(error, target.url)[:MAX_ERROR], retryable=True)


def _scrub(text: str, url: str) -> str:
    """``text`` without the Apprise URL or any of its token, password or path parts.

    Many services keep their token where a host would be (``discord://id/token``), so only
    the host of an http-based URL is kept.
    """
    text = text.replace(url, redact_url(url, kind="apprise"))
    keep = urlsplit(http_url).hostname if (http_url := apprise_http_url(url)) else None
    for part in re.split(r"[:/?&=@#]", url.partition("://")[2]):
        if len(part) >= 4 and part != keep:
            text = text.replace(part, "***")
    return text


def send(target: Target, payload: dict) -> Outcome:
    """Send ``payload`` to ``target`` by its kind."""
    if target.kind == "apprise":
        return apprise_send(target, payload)
    return webhook_send(target, payload)
