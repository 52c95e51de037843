"""A small base for JSON-over-HTTP clients of external services.

One ``httpx.Client`` per client object, with a timeout and retries: timeouts, connection
errors, 429 (honouring ``Retry-After``) and 5xx answers are retried with exponential
backoff and jitter; other 4xx answers never are.  Every failure is raised as
``ExternalApiError`` naming the service, with ``retryable`` saying whether trying again
later makes sense and ``context.status_code`` when the service answered.  Secrets given to
the client are masked in every message and log line, and URLs are shown without their
host or query string.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from mamcrawler.api.exceptions import ExternalApiError

logger = logging.getLogger("mamcrawler.integrations")

# A Retry-After longer than this is not waited for: the run reports the service as busy.
MAX_RETRY_AFTER_SECONDS = 60.0
_BODY_SNIPPET = 200


def _sleep(seconds: float) -> None:
    """Wait between attempts (a module function so tests can record the waits instead)."""
    time.sleep(seconds)


class HttpClient:
    """Base of the HTTP clients: subclasses set ``service`` and ``credentials_hint``.

    ``retried`` counts the retries made so far; ``on_retry`` (if set) is called with a
    one-line description of each, so a job can put it in its log.
    """

    service = "External service"
    credentials_hint = "check the configured credentials"
    backoff_base = 0.5
    backoff_max = 30.0

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float,
        retries: int,
        headers: dict[str, str] | None = None,
        secrets: Iterable[str] = (),
        transport: httpx.BaseTransport | None = None,
    ):
        if not base_url:
            raise ExternalApiError(f"{self.service} is not configured.", service=self.service, retryable=False)
        self.retries = max(0, int(retries))
        self.retried = 0
        self.on_retry: Callable[[str], None] | None = None
        self._secrets = [secret for secret in secrets if secret]
        try:
            self._client = httpx.Client(
                base_url=base_url.rstrip("/"),
                timeout=httpx.Timeout(timeout),
                headers={"Accept": "application/json", **(headers or {})},
                transport=transport,
            )
        except (httpx.InvalidURL, TypeError, ValueError):
            # The exception text may repeat the URL, credentials included: leave it out.
            raise self._error("has no valid URL configured", retryable=False)

    def close(self) -> None:
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # --- requests ------------------------------------------------------------------------

    def request_json(self, method: str, path: str, *, params: dict | None = None, json: Any = None) -> Any:
        """The decoded JSON body of a successful answer; garbage becomes ``ExternalApiError``."""
        response = self.request(method, path, params=params, json=json)
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            raise self._error(
                f"sent a body that is not JSON ({kind}, {len(response.content)} bytes) for {method} {path}",
                retryable=True,
                status_code=response.status_code,
            )

    def request(self, method: str, path: str, *, params: dict | None = None, json: Any = None) -> httpx.Response:
        """Send a request, retrying transient failures; return the 2xx response."""
        what = f"{method} {path}"
        attempt = 0
        while True:
            try:
                response = self._client.request(method, path, params=params, json=json)
            except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError) as exc:
                raise self._error(
                    f"cannot send {what} ({type(exc).__name__}): check the configured URL", retryable=False
                )
            except httpx.TimeoutException:
                reason = "timed out"
                if attempt >= self.retries:
                    raise self._error(f"timed out on {what} ({self._attempts(attempt)})", retryable=True)
                delay = self._backoff(attempt)
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}"
                if attempt >= self.retries:
                    raise self._error(f"is unreachable on {what}: {reason} ({self._attempts(attempt)})", retryable=True)
                delay = self._backoff(attempt)
            else:
                status = response.status_code
                if status < 300:
                    return response
                if status == 429 or status >= 500:
                    reason = f"HTTP {status}"
                    wait = _retry_after(response) if status == 429 else None
                    if attempt >= self.retries or (wait is not None and wait > MAX_RETRY_AFTER_SECONDS):
                        context = {"retry_after": round(wait)} if wait is not None else {}
                        raise self._error(
                            f"answered HTTP {status} to {what} ({self._attempts(attempt)}){self._snippet(response)}",
                            retryable=True,
                            status_code=status,
                            **context,
                        )
                    delay = wait if wait is not None else self._backoff(attempt)
                else:
                    raise self._status_error(response, what)
            attempt += 1
            self.retried += 1
            note = f"{self.service} {what}: {self._mask(reason)}; retry {attempt}/{self.retries} in {delay:.1f}s."
            logger.warning(note)
            if self.on_retry is not None:
                self.on_retry(note)
            _sleep(delay)

    # --- helpers -------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: between half and all of base × 2^attempt (capped)."""
        ceiling = min(self.backoff_max, self.backoff_base * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography

    @staticmethod
    def _attempts(attempt: int) -> str:
        return "1 attempt" if attempt == 0 else f"{attempt + 1} attempts"

    def _status_error(self, response: httpx.Response, what: str) -> ExternalApiError:
        status = response.status_code
        if status in (401, 403):
            return self._error(
                f"rejected the credentials (HTTP {status} on {what}): {self.credentials_hint}",
                retryable=False,
                status_code=status,
            )
        if status < 400:
            location = httpx.URL(response.headers.get("location", "")).path or "?"
            return self._error(
                f"redirected {what} to {location} (HTTP {status}): check that the configured URL is the API's base",
                retryable=False,
                status_code=status,
            )
        return self._error(
            f"answered HTTP {status} {response.reason_phrase} to {what}{self._snippet(response)}",
            retryable=False,
            status_code=status,
        )

    def _snippet(self, response: httpx.Response) -> str:
        text = " ".join(response.text[:_BODY_SNIPPET].split()) if response.content else ""
        return f": {text}" if text else ""

    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _error(self, text: str, *, retryable: bool, status_code: int | None = None, **context) -> ExternalApiError:
        if status_code is not None:
            context["status_code"] = status_code
        return ExternalApiError(
            self._mask(f"{self.service} {text}."),
            service=self.service,
            retryable=retryable,
            context=context or None,
        )


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta seconds or an HTTP date), if any."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - time.time())
