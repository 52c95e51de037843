"""The MyAnonamouse client (SPEC §8.1): search, account, torrent files.

Built on ``library.integrations.base.HttpClient`` (timeouts, retries with backoff and
jitter on 5xx/timeouts, ``ExternalApiError``).  On top of it:

* the ``mam_id`` cookie is read from the ``MamSession`` row before every request and a new
  value in ``Set-Cookie`` is written back, so every worker uses the newest cookie;
* pacing: the same row holds ``next_request_at``; each request reserves the next slot
  under a row lock and sleeps until it, so all processes together send at most one request
  per ``MAM_MIN_INTERVAL`` seconds;
* an expired session (403, a body that is not JSON, a redirect to ``login.php``) raises a
  non-retryable ``ExternalApiError`` and marks the session expired.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from downloads.bencode import BencodeError
from downloads.bencode import info_hash as bencode_info_hash
from downloads.models import MamSession
from library.integrations.base import HttpClient
from mamcrawler.api.exceptions import ExternalApiError
from notifications.events import notify

logger = logging.getLogger("mamcrawler.downloads")

USER_AGENT = "MAMcrawler/1.0 (audiobook collection manager; JSON API)"
SEARCH_PATH = "/tor/js/loadSearchJSONbasic.php"
ACCOUNT_PATH = "/jsonLoad.php?snatch_summary"
BONUS_BUY_PATH = "/json/bonusBuy.php/"
SEEDBOX_PATH = "/json/dynamicSeedbox.php"
EXPIRED_TEXT = "session expired: set a new MAM_SESSION_ID (the mam_id cookie)"

_UNITS = {"b": 1, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4, "kb": 1000, "mb": 1000**2}
_UNITS |= {"gb": 1000**3, "tb": 1000**4}
_SIZE = re.compile(r"^\s*([\d.,]+)\s*([a-z]*)\s*$", re.I)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def parse_size(value: Any) -> int:
    """Bytes from MAM's ``size``: a number of bytes or a string such as "1.2 GiB"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    match = _SIZE.match(str(value or ""))
    if not match:
        return 0
    number, unit = match.group(1).replace(",", ""), (match.group(2) or "b").lower()
    try:
        return int(Decimal(number) * _UNITS.get(unit, 1))
    except InvalidOperation:
        return 0


def _json_map(value: Any) -> dict:
    """``author_info`` and friends: a JSON string holding an object (or already an object)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class MamTorrent:
    """One search result row."""

    id: int
    title: str
    authors: list[str] = field(default_factory=list)
    narrators: list[str] = field(default_factory=list)
    series: list[tuple[str, str]] = field(default_factory=list)  # (name, position label)
    filetype: str = ""
    size_bytes: int = 0
    seeders: int = 0
    leechers: int = 0
    times_completed: int = 0
    added: str = ""
    lang_code: str = ""
    free: bool = False
    vip: bool = False
    fl_vip: bool = False
    personal_freeleech: bool = False
    numfiles: int = 0
    category: str = ""
    dl: str = ""

    @classmethod
    def from_row(cls, row: dict) -> MamTorrent:
        series = []
        for value in _json_map(row.get("series_info")).values():
            if isinstance(value, list) and value:
                series.append((str(value[0]), str(value[1]) if len(value) > 1 and value[1] is not None else ""))
            elif isinstance(value, str):
                series.append((value, ""))
        return cls(
            id=_int(row.get("id")),
            title=str(row.get("title") or ""),
            authors=[str(name) for name in _json_map(row.get("author_info")).values()],
            narrators=[str(name) for name in _json_map(row.get("narrator_info")).values()],
            series=series,
            filetype=str(row.get("filetype") or "").lower(),
            size_bytes=parse_size(row.get("size")),
            seeders=_int(row.get("seeders")),
            leechers=_int(row.get("leechers")),
            times_completed=_int(row.get("times_completed")),
            added=str(row.get("added") or ""),
            lang_code=str(row.get("lang_code") or ""),
            free=_flag(row.get("free")),
            vip=_flag(row.get("vip")),
            fl_vip=_flag(row.get("fl_vip")),
            personal_freeleech=_flag(row.get("personal_freeleech")),
            numfiles=_int(row.get("numfiles")),
            category=str(row.get("catname") or row.get("category") or ""),
            dl=str(row.get("dl") or ""),
        )


def parse_account(data: dict) -> dict:
    """Snapshot fields (``MamAccountSnapshot``) from a ``snatch_summary`` answer."""
    unsat = data.get("unsat") if isinstance(data.get("unsat"), dict) else {}
    try:
        ratio = Decimal(str(data.get("ratio"))).quantize(Decimal("0.0001"))
    except (InvalidOperation, ValueError):
        ratio = None
    vip_until = None
    if data.get("vip_until"):
        try:
            vip_until = datetime.fromisoformat(str(data["vip_until"]))
            if timezone.is_naive(vip_until):
                vip_until = vip_until.replace(tzinfo=UTC)
        except ValueError:
            vip_until = None
    return {
        "uid": _int(data.get("uid")) or None,
        "username": str(data.get("username") or ""),
        "ratio": ratio if ratio is not None and ratio.is_finite() else None,
        "uploaded_bytes": _int(data.get("uploaded_bytes")),
        "downloaded_bytes": _int(data.get("downloaded_bytes")),
        "seedbonus": _int(float(data.get("seedbonus") or 0)),
        "classname": str(data.get("classname") or ""),
        "vip_until": vip_until,
        "unsat_count": _int(unsat.get("count")),
        "unsat_limit": _int(unsat.get("limit")),
        "wedges": _int(data.get("wedges")),
        # Not part of snatch_summary on every deployment: absent means "no site-wide freeleech".
        "site_freeleech": _flag(data.get("sitewide_freeleech") or data.get("site_freeleech")),
        "raw": data,
    }


def info_hash(torrent_bytes: bytes) -> str:
    """The 40-hex info hash computed from the torrent file itself."""
    try:
        return bencode_info_hash(torrent_bytes)
    except BencodeError as exc:
        raise ExternalApiError(f"MAM sent a torrent file that cannot be read: {exc}.", service="MAM", retryable=False)


def mam_session_reserve_slot(*, interval: float) -> tuple[str, float]:
    """Reserve the next request slot; return ``(mam_id, seconds to wait)``.

    Side effect: moves ``MamSession.next_request_at`` on by ``interval`` under a row lock.
    """
    MamSession.load()
    with transaction.atomic():
        session = MamSession.objects.select_for_update().get(pk=MamSession.SINGLETON_ID)
        now = time.time()
        slot = max(now, session.next_request_at)
        MamSession.objects.filter(pk=session.pk).update(next_request_at=slot + interval)
    return session.mam_id, slot - now


class MamClient(HttpClient):
    """MAM's JSON endpoints; use as a context manager."""

    service = "MAM"
    credentials_hint = "the session may have expired: set a new MAM_SESSION_ID"

    def __init__(self, *, transport: httpx.BaseTransport | None = None, base_url: str | None = None):
        session = MamSession.load()
        if not session.mam_id:
            raise ExternalApiError("MAM is not configured: MAM_SESSION_ID is blank.", service="MAM", retryable=False)
        self.min_interval = float(settings.MAM_MIN_INTERVAL)
        super().__init__(
            base_url=base_url or settings.MAM_BASE_URL,
            timeout=settings.MAM_TIMEOUT,
            retries=settings.MAM_RETRIES,
            headers={"User-Agent": USER_AGENT},
            secrets=[session.mam_id, settings.MAM_SESSION_ID],
            transport=transport,
        )
        self._client.event_hooks = {"request": [self._before_request], "response": [self._after_response]}

    # --- hooks ------------------------------------------------------------------------------

    def _before_request(self, request: httpx.Request) -> None:
        mam_id, wait = mam_session_reserve_slot(interval=self.min_interval)
        if wait > 0:
            _sleep(wait)
        self._keep_secret(mam_id)
        request.headers["Cookie"] = f"mam_id={mam_id}"

    def _after_response(self, response: httpx.Response) -> None:
        new_id = response.cookies.get("mam_id")
        if new_id:
            self._keep_secret(new_id)
            updated = MamSession.objects.filter(pk=MamSession.SINGLETON_ID).exclude(mam_id=new_id)
            if updated.update(mam_id=new_id, expired=False, last_error="", updated_at=timezone.now()):
                logger.info("MAM sent a new session cookie; stored it.")

    def _keep_secret(self, value: str) -> None:
        if value and value not in self._secrets:
            self._secrets.append(value)

    # --- expiry -------------------------------------------------------------------------------

    def _expired(self, why: str, status_code: int | None = None) -> ExternalApiError:
        error = self._error(f"{EXPIRED_TEXT} ({why})", retryable=False, status_code=status_code)
        if MamSession.objects.filter(pk=MamSession.SINGLETON_ID, expired=False).exists():  # once, not per request
            notify("mam_session_expired", {"reason": why, "status_code": status_code})
        MamSession.objects.filter(pk=MamSession.SINGLETON_ID).update(
            expired=True, last_error=error.detail_text or "", updated_at=timezone.now()
        )
        return error

    def _status_error(self, response: httpx.Response, what: str) -> ExternalApiError:
        status = response.status_code
        if status == 403:
            return self._expired(f"HTTP 403 on {what}", status)
        if 300 <= status < 400 and "login.php" in response.headers.get("location", ""):
            return self._expired(f"redirected to login.php on {what}", status)
        return super()._status_error(response, what)

    def _json(self, method: str, path: str, *, json_body: Any = None) -> Any:
        response = self.request(method, path, json=json_body)
        try:
            data = response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            raise self._expired(f"{method} {path.split('?')[0]} answered {kind}, not JSON", response.status_code)
        # A JSON answer means the session works again: an earlier "expired" (a glitch, a
        # cookie renewed by hand) must not stay on the integration status and stop runs.
        MamSession.objects.filter(pk=MamSession.SINGLETON_ID, expired=True).update(
            expired=False, last_error="", updated_at=timezone.now()
        )
        return data

    # --- endpoints ------------------------------------------------------------------------------

    def search(
        self,
        text: str,
        *,
        perpage: int = 100,
        languages: list[str] | None = None,
        main_cat: list[str] | None = None,
    ) -> list[MamTorrent]:
        """Search audiobooks; no results is an empty list."""
        body = {
            "tor": {
                "text": text,
                "srchIn": ["title", "author", "narrator", "series"],
                "searchType": "all",
                "main_cat": list(main_cat or ["13"]),
                "sortType": "default",
                "startNumber": "0",
                "browse_lang": [str(lang) for lang in (settings.MAM_LANGUAGES if languages is None else languages)],
            },
            "perpage": perpage,
            "dlLink": "true",
        }
        data = self._json("POST", SEARCH_PATH, json_body=body)
        if not isinstance(data, dict):
            return []
        if data.get("error"):
            if str(data["error"]).lower().startswith("nothing returned"):
                return []
            raise self._error(f"search failed: {data['error']}", retryable=False)
        return [MamTorrent.from_row(row) for row in data.get("data") or [] if isinstance(row, dict)]

    def account(self) -> dict:
        """The account summary as ``MamAccountSnapshot`` fields."""
        data = self._json("GET", ACCOUNT_PATH)
        if not isinstance(data, dict) or "uid" not in data:
            raise self._expired("the account summary has no uid")
        return parse_account(data)

    def download_torrent(self, dl: str | None = None, tid: int | None = None) -> bytes:
        """The bytes of a torrent file, by download hash ``dl`` or torrent id ``tid``."""
        if dl:
            path = f"/tor/download.php/{dl}"
        elif tid:
            path = f"/tor/download.php?tid={int(tid)}"
        else:
            raise ValueError("download_torrent needs dl or tid")
        content = self.request("GET", path).content
        if not content.startswith(b"d"):
            raise self._expired("the torrent download answered a page, not a torrent file")
        return content

    def spend_wedge(self, torrent_id: int) -> None:
        """Spend one freeleech wedge on ``torrent_id`` so downloading it costs no ratio.

        MAM's bonus shop names spending a wedge on a torrent ``spendtype=personalFL``; it answers
        ``{"success": true}`` or ``{"success": false, "error": "..."}`` (no wedge left, already free).
        """
        query = f"?spendtype=personalFL&torrentid={int(torrent_id)}&timestamp={int(time.time() * 1000)}"
        data = self._json("GET", BONUS_BUY_PATH + query)
        if not isinstance(data, dict) or not (data.get("success") or data.get("Success")):
            reason = data.get("error") or data.get("msg") if isinstance(data, dict) else "unexpected answer"
            raise self._error(f"spending a wedge on torrent {torrent_id} failed: {reason}", retryable=False)

    def dynamic_seedbox(self) -> str:
        """Register this machine's IP for announces (``MAM_DYNAMIC_SEEDBOX``); returns MAM's message.

        The endpoint lives on the tracker host (``MAM_TRACKER_URL``).  MAM answers
        ``{"Success": true, "msg": "Completed"}``, or ``"No change"`` when the IP is already known.
        """
        data = self._json("GET", settings.MAM_TRACKER_URL.rstrip("/") + SEEDBOX_PATH)
        if not isinstance(data, dict):
            raise self._error("the dynamic seedbox answer is not an object", retryable=False)
        message = str(data.get("msg") or "")
        if not (data.get("Success") or data.get("success")) and message.lower() != "no change":
            raise self._error(f"dynamic seedbox update refused: {message or data}", retryable=False)
        return message or "Completed"

    @staticmethod
    def info_hash(torrent_bytes: bytes) -> str:
        return info_hash(torrent_bytes)
