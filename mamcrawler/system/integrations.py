"""The integrations (MAM, qBittorrent, Audiobookshelf, metadata providers): configured, and reachable.

One place decides whether an integration is configured (``/health/deep/`` reports that
from settings alone) and how each is probed (``/api/v1/system/integrations/``):

* MAM: ``MamClient.account()`` — a cheap real call through the shared session and pacing;
* qBittorrent: ``QbittorrentClient.version()``;
* Audiobookshelf: ``GET /api/libraries`` (the key is accepted) and ``GET /status`` (version);
* a metadata provider: ``HEAD`` of its public base URL (any HTTP answer means reachable).

Probes run concurrently, each with ``INTEGRATION_CHECK_TIMEOUT`` seconds and no retries;
the MAM probe touches the database (session cookie, pacing row), so it runs on the calling
thread while the network-only probes run in a thread pool.  An integration that is not
configured is never contacted.  Error texts never carry passwords, keys or cookies.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass

import httpx
import qbittorrentapi
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from downloads.integrations.mam import MamClient
from downloads.integrations.qbittorrent import QbittorrentClient
from downloads.models import MamSession
from library.integrations.audiobookshelf import AudiobookshelfClient
from library.providers.registry import PROVIDERS, providers_status
from mamcrawler.api.exceptions import ExternalApiError
from notifications.events import notify

logger = logging.getLogger("mamcrawler.system")

CACHE_KEY = "system:integrations"
CACHE_SECONDS = 30
# What each service needs before it is "configured" (blank settings mean "not used").
REQUIRED_SETTINGS = {
    "mam": ("MAM_BASE_URL", "MAM_SESSION_ID"),
    "qbittorrent": ("QBITTORRENT_URL",),
    "audiobookshelf": ("ABS_URL", "ABS_API_KEY"),
}
# Providers that need a credential besides their URL before they are configured.
PROVIDER_CREDENTIALS = {"hardcover": ("HARDCOVER_TOKEN",)}
# Settings whose values must never appear in an error text.
SECRET_SETTINGS = (
    "MAM_SESSION_ID",
    "QBITTORRENT_PASSWORD",
    "ABS_API_KEY",
    "HARDCOVER_TOKEN",
    "GOOGLE_BOOKS_API_KEY",
)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/@\s:]*:)[^@\s/]+@", re.I)


# --- configuration (no network) -----------------------------------------------------------------


def missing_settings(name: str) -> list[str]:
    """The settings ``name`` (mam, qbittorrent, audiobookshelf) still needs; empty when configured."""
    return [variable for variable in REQUIRED_SETTINGS[name] if not getattr(settings, variable, "")]


def is_configured(name: str) -> bool:
    return not missing_settings(name)


# --- probing ---------------------------------------------------------------------------------------


@dataclass
class IntegrationStatus:
    """One integration as ``system/integrations/`` reports it."""

    name: str
    kind: str  # tracker, download_client, library_server or metadata_provider
    configured: bool
    reachable: bool | None = None  # None: not probed (not configured, or disabled)
    version: str | None = None
    latency_ms: float | None = None
    last_error: str | None = None
    message: str = ""
    enabled: bool | None = None  # metadata providers: named in METADATA_PROVIDERS
    circuit: str | None = None  # metadata providers: the registry's circuit state
    recent_error: str | None = None  # the last error recorded in real use (MAM session, provider state)


@dataclass
class _Outcome:
    reachable: bool
    version: str | None = None
    error: str | None = None


def scrub(text: str) -> str:
    """``text`` without configured secrets or URL passwords (error texts end up in API answers)."""
    text = _URL_PASSWORD.sub(r"\g<head>***@", text or "")
    for name in SECRET_SETTINGS:
        value = getattr(settings, name, "")
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


def _answered(exc: BaseException) -> bool:
    """Whether the failure came after the service answered (HTTP status, refused login), not before."""
    if isinstance(exc, ExternalApiError) and (exc.context or {}).get("status_code") is not None:
        return True
    seen: BaseException | None = exc
    for _ in range(10):  # the chain of causes, bounded
        if seen is None:
            break
        if isinstance(seen, (qbittorrentapi.HTTPError, qbittorrentapi.LoginFailed)):
            return True
        if isinstance(seen, qbittorrentapi.UnsupportedQbittorrentVersion):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ExternalApiError):
        return str(exc.detail_text or exc.message)
    return f"{type(exc).__name__}: {exc}"


def _timed(probe: Callable[[], _Outcome]) -> tuple[_Outcome, float]:
    """Run ``probe``; any exception becomes an outcome (reachable if the service had answered)."""
    started = time.perf_counter()
    try:
        outcome = probe()
    except Exception as exc:  # noqa: BLE001 - a failed probe is the answer
        outcome = _Outcome(reachable=_answered(exc), error=scrub(_error_text(exc))[:500])
    return outcome, round((time.perf_counter() - started) * 1000, 2)


def _probe_mam(timeout: float) -> _Outcome:
    with MamClient() as client:
        # A status check is one attempt with a short timeout, not the client's patient defaults.
        client.retries = 0
        client._client.timeout = httpx.Timeout(timeout)
        client.account()
    return _Outcome(reachable=True)


def _probe_qbittorrent(timeout: float) -> _Outcome:
    return _Outcome(reachable=True, version=QbittorrentClient(timeout=timeout).version())


def _probe_audiobookshelf(timeout: float) -> _Outcome:
    with AudiobookshelfClient.from_settings(timeout=timeout, retries=0) as client:
        client.libraries()
        try:
            status = client.request_json("GET", "/status")
        except ExternalApiError:
            status = None  # older servers or proxies without /status: reachable, version unknown
    version = status.get("serverVersion") if isinstance(status, dict) else None
    return _Outcome(reachable=True, version=str(version) if version else None)


def _probe_url(url: str, timeout: float) -> _Outcome:
    with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False) as client:
        response = client.head(url)
    # A base URL need not serve anything (404, 405 are fine); a server error is worth showing.
    if response.status_code >= 500:
        return _Outcome(reachable=True, error=f"Answered HTTP {response.status_code} to HEAD of the base URL.")
    return _Outcome(reachable=True)


def _provider_missing(name: str) -> list[str]:
    required = (PROVIDERS[name].url_setting, *PROVIDER_CREDENTIALS.get(name, ()))
    return [variable for variable in required if not getattr(settings, variable, "")] or list(required)


def _service_status(name: str, kind: str) -> IntegrationStatus:
    missing = missing_settings(name)
    if missing:
        return IntegrationStatus(
            name=name, kind=kind, configured=False, message=f"Not configured: set {', '.join(missing)}."
        )
    return IntegrationStatus(name=name, kind=kind, configured=True)


def _mam_recent_error() -> str | None:
    session = MamSession.objects.filter(pk=MamSession.SINGLETON_ID).only("last_error", "expired").first()
    if session is None or not session.last_error:
        return None
    return scrub(session.last_error)


def integrations_check(*, timeout: float | None = None) -> list[IntegrationStatus]:
    """Probe every configured integration concurrently; unconfigured ones are reported, not contacted.

    Side effects: network requests; the MAM probe goes through ``MamSession`` (pacing slot,
    a rotated cookie is stored, an expired session is marked).
    """
    timeout = float(settings.INTEGRATION_CHECK_TIMEOUT if timeout is None else timeout)
    statuses = [
        _service_status("mam", "tracker"),
        _service_status("qbittorrent", "download_client"),
        _service_status("audiobookshelf", "library_server"),
    ]
    statuses[0].recent_error = _mam_recent_error()
    probes: dict[str, Callable[[], _Outcome]] = {
        "qbittorrent": lambda: _probe_qbittorrent(timeout),
        "audiobookshelf": lambda: _probe_audiobookshelf(timeout),
    }
    for row in providers_status():
        status = IntegrationStatus(
            name=row["name"],
            kind="metadata_provider",
            configured=row["configured"],
            enabled=row["enabled"],
            circuit=row["circuit"],
            recent_error=scrub(row["last_error"]) or None,
        )
        if not row["configured"]:
            status.message = f"Not configured: set {', '.join(_provider_missing(row['name']))}."
        elif not row["enabled"]:
            status.message = "Disabled: not named in METADATA_PROVIDERS."
        else:
            url = row["base_url"]
            probes[row["name"]] = lambda url=url: _probe_url(url, timeout)
        statuses.append(status)
    by_name = {status.name: status for status in statuses}
    wanted = {name: probe for name, probe in probes.items() if by_name[name].configured}

    pool = ThreadPoolExecutor(max_workers=max(1, len(wanted)), thread_name_prefix="integration-check")
    try:
        futures = {name: pool.submit(_timed, probe) for name, probe in wanted.items()}
        if by_name["mam"].configured:
            _apply(by_name["mam"], *_timed(lambda: _probe_mam(timeout)))
        # A client may try twice (qbittorrent-api re-sends once); past that the probe is abandoned.
        deadline = time.monotonic() + 2 * timeout + 1
        for name, future in futures.items():
            try:
                _apply(by_name[name], *future.result(timeout=max(0.0, deadline - time.monotonic())))
            except FutureTimeout:
                _apply(by_name[name], _Outcome(reachable=False, error=f"No answer within {timeout:g} seconds."), None)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    for down in (s for s in statuses if s.configured and s.reachable is False):  # at most hourly each
        data = {"integration": down.name, "kind": down.kind, "error": down.last_error}
        notify("integration_down", data, dedupe_key=down.name)
    return statuses


def _apply(status: IntegrationStatus, outcome: _Outcome, latency_ms: float | None) -> None:
    status.reachable = outcome.reachable
    status.version = outcome.version
    status.latency_ms = latency_ms
    status.last_error = outcome.error
    if outcome.error is None:
        status.message = "Reachable."
    elif outcome.reachable:
        status.message = "Reachable, but the request failed."
    else:
        status.message = "Unreachable."


def integrations_status(*, refresh: bool = False) -> dict:
    """The integrations report, cached for ``CACHE_SECONDS`` in the default cache (``refresh`` re-probes)."""
    if not refresh:
        cached = cache.get(CACHE_KEY)
        if cached is not None:
            return {**cached, "cached": True}
    report = {
        "checked_at": timezone.now(),
        "timeout_seconds": float(settings.INTEGRATION_CHECK_TIMEOUT),
        "integrations": [asdict(status) for status in integrations_check()],
    }
    cache.set(CACHE_KEY, report, timeout=CACHE_SECONDS)
    return {**report, "cached": False}
