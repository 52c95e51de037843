"""qBittorrent download client over qbittorrent-api (SPEC §8.3).

Every failure leaves as ``ExternalApiError(service="qBittorrent")`` whose ``retryable`` says whether
the next run may succeed (connection refused, timeout, 5xx) or a person must act (bad credentials).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import qbittorrentapi
import requests
from django.conf import settings

from downloads.bencode import BencodeError
from downloads.bencode import info_hash as bencode_info_hash
from mamcrawler.api.exceptions import AppValidationError, ExternalApiError

logger = logging.getLogger("mamcrawler.downloads")

SERVICE = "qBittorrent"
T = TypeVar("T")
ADD_CONFIRM_SECONDS = 5.0

DOWNLOADING, COMPLETED, FAILED, PAUSED, QUEUED, CHECKING, UNKNOWN = (
    "downloading",
    "completed",
    "failed",
    "paused",
    "queued",
    "checking",
    "unknown",
)
_DOWNLOADING_STATES = {"downloading", "stalledDL", "metaDL", "queuedDL", "checkingDL", "forcedDL", "forcedMetaDL"}
_SEEDING_STATES = {"uploading", "stalledUP", "queuedUP", "checkingUP", "forcedUP"}
_STOPPED_UP_STATES = {"pausedUP", "stoppedUP"}  # 4.x says paused, 5.x says stopped
_STOPPED_DL_STATES = {"pausedDL", "stoppedDL"}
_FAILED_STATES = {"error", "missingFiles"}


def map_state(raw: str, progress: float) -> str:
    """qBittorrent's torrent state → ours (SPEC §8.3)."""
    if raw in _DOWNLOADING_STATES:
        return DOWNLOADING
    if raw in _SEEDING_STATES:
        return COMPLETED
    if raw in _STOPPED_UP_STATES:
        # A stopped torrent reported as "UP" with pieces missing (e.g. files deselected) is not done.
        return COMPLETED if progress >= 1 else PAUSED
    if raw in _STOPPED_DL_STATES:
        return PAUSED
    if raw in _FAILED_STATES:
        return FAILED
    if raw == "checkingResumeData":
        return CHECKING
    if raw == "moving":
        return COMPLETED if progress >= 1 else DOWNLOADING
    return UNKNOWN


@dataclass(frozen=True)
class TorrentStatus:
    hash: str
    name: str
    state_raw: str
    state: str
    progress: float
    size: int
    save_path: str
    content_path: str
    category: str
    tags: tuple[str, ...]

    @classmethod
    def from_info(cls, info) -> TorrentStatus:
        progress = float(info.get("progress") or 0)
        raw = str(info.get("state") or "")
        tags = tuple(tag.strip() for tag in str(info.get("tags") or "").split(",") if tag.strip())
        return cls(
            hash=str(info["hash"]).lower(),
            name=str(info.get("name") or ""),
            state_raw=raw,
            state=map_state(raw, progress),
            progress=progress,
            size=int(info.get("size") or 0),
            save_path=str(info.get("save_path") or ""),
            content_path=str(info.get("content_path") or ""),
            category=str(info.get("category") or ""),
            tags=tags,
        )


def info_hash(torrent_bytes: bytes) -> str:
    """The v1 info hash of a torrent file; bytes that are not a torrent are a 400."""
    try:
        return bencode_info_hash(torrent_bytes)
    except BencodeError as exc:
        raise AppValidationError(f"Not a bencoded torrent: {exc}") from exc


class QbittorrentClient:
    """The download client. Arguments default to the ``QBITTORRENT_*`` settings."""

    def __init__(
        self,
        url: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        category: str | None = None,
        timeout: float | None = None,
    ):
        self.url = url if url is not None else settings.QBITTORRENT_URL
        if not self.url:
            raise ExternalApiError("QBITTORRENT_URL is not configured.", service=SERVICE, retryable=False)
        self.username = settings.QBITTORRENT_USERNAME if username is None else username
        self.category = settings.QBITTORRENT_CATEGORY if category is None else category
        timeout = settings.QBITTORRENT_TIMEOUT if timeout is None else timeout
        self._api = qbittorrentapi.Client(
            host=self.url,
            username=self.username or None,
            password=(settings.QBITTORRENT_PASSWORD if password is None else password) or None,
            REQUESTS_ARGS={"timeout": timeout},
            DISABLE_LOGGING_DEBUG_OUTPUT=True,
            VERIFY_WEBUI_CERTIFICATE=True,
        )
        self._logged_in = False

    # --- plumbing ----------------------------------------------------------------------------
    def _login(self) -> None:
        # Without a username we rely on the localhost/subnet bypass; qBittorrent answers 403 if not.
        if self.username:
            self._api.auth_log_in()
        self._logged_in = True

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` logged in; a dropped session (qBittorrent restarted) gets one re-login."""
        try:
            if not self._logged_in:
                self._login()
            try:
                return fn()
            except qbittorrentapi.Forbidden403Error:
                if not self.username:
                    raise
                logger.info("qBittorrent session dropped during %s; logging in again", operation)
                self._login()
                return fn()
        except ExternalApiError:
            raise
        except Exception as exc:
            raise self._translate(operation, exc) from exc

    def _translate(self, operation: str, exc: Exception) -> ExternalApiError:
        what = f"qBittorrent {operation} failed"
        if isinstance(exc, qbittorrentapi.LoginFailed | qbittorrentapi.HTTP401Error | qbittorrentapi.HTTP403Error):
            if self.username:
                hint = "login refused; check QBITTORRENT_USERNAME/PASSWORD"
            else:
                hint = "authentication required; set QBITTORRENT_USERNAME/PASSWORD or allow the localhost bypass"
            return ExternalApiError(f"{what}: {hint}.", service=SERVICE, retryable=False)
        if isinstance(exc, qbittorrentapi.HTTP5XXError):
            return ExternalApiError(f"{what}: server error {exc}.", service=SERVICE, retryable=True)
        if isinstance(exc, qbittorrentapi.HTTPError):  # other 4xx: our request is wrong, retrying won't help
            return ExternalApiError(f"{what}: {type(exc).__name__} {exc}.", service=SERVICE, retryable=False)
        if isinstance(exc, qbittorrentapi.UnsupportedQbittorrentVersion):
            return ExternalApiError(f"{what}: unsupported version ({exc}).", service=SERVICE, retryable=False)
        if isinstance(exc, qbittorrentapi.APIConnectionError | requests.RequestException | OSError):
            return ExternalApiError(f"{what}: cannot reach {self.url} ({exc}).", service=SERVICE, retryable=True)
        return ExternalApiError(f"{what}: {type(exc).__name__}: {exc}.", service=SERVICE, retryable=False)

    # --- operations --------------------------------------------------------------------------
    def version(self) -> str:
        """The application version, e.g. ``v4.5.2``."""
        return str(self._call("version", self._api.app_version))

    def add_torrent(
        self,
        *,
        torrent_bytes: bytes,
        save_path: str | None = None,
        tags: Iterable[str] = (),
        category: str | None = None,
    ) -> str:
        """Add a torrent; returns its info hash. A hash the client already has is not an error."""
        torrent_hash = info_hash(torrent_bytes)
        return self._add(torrent_hash, {"torrent_files": {"upload.torrent": torrent_bytes}}, save_path, tags, category)

    def add_magnet(
        self,
        *,
        magnet: str,
        torrent_hash: str,
        save_path: str | None = None,
        tags: Iterable[str] = (),
        category: str | None = None,
    ) -> str:
        """Add a magnet link whose v1 info hash is ``torrent_hash``; idempotent like ``add_torrent``."""
        return self._add(torrent_hash.lower(), {"urls": magnet}, save_path, tags, category)

    def _add(self, torrent_hash: str, source: dict, save_path, tags, category) -> str:
        if self._find(torrent_hash) is not None:
            logger.info("qBittorrent already has %s; not adding it again", torrent_hash)
            return torrent_hash
        tags = [tag for tag in tags if tag]
        self._call(
            "add",
            lambda: self._api.torrents_add(
                **source,
                save_path=save_path or settings.QBITTORRENT_SAVE_PATH or None,
                category=category if category is not None else self.category,
                tags=tags or None,
            ),
        )
        # qBittorrent adds asynchronously, and "Fails." may also mean "another worker just added it":
        # only a torrent still missing after a short wait is an error.
        deadline = time.monotonic() + ADD_CONFIRM_SECONDS
        while self._find(torrent_hash) is None:
            if time.monotonic() > deadline:
                raise ExternalApiError(
                    f"qBittorrent did not accept torrent {torrent_hash}.", service=SERVICE, retryable=True
                )
            time.sleep(0.1)
        return torrent_hash

    def _find(self, torrent_hash: str) -> TorrentStatus | None:
        found = self._call("torrents/info", lambda: self._api.torrents_info(torrent_hashes=torrent_hash))
        return TorrentStatus.from_info(found[0]) if found else None

    def torrents(self, category: str | None = None) -> list[TorrentStatus]:
        """Torrents in ``category`` (default ``QBITTORRENT_CATEGORY``), as ``torrents/info`` reports them."""
        category = self.category if category is None else category
        infos = self._call("torrents/info", lambda: self._api.torrents_info(category=category))
        return [TorrentStatus.from_info(info) for info in infos]

    def torrent(self, torrent_hash: str) -> TorrentStatus | None:
        """One torrent by hash, or None when the client does not have it."""
        return self._find(torrent_hash.lower())

    def pause(self, torrent_hash: str) -> None:
        # qbittorrent-api picks torrents/pause (4.x) or torrents/stop (5.x).
        self._call("pause", lambda: self._api.torrents_stop(torrent_hashes=torrent_hash))

    def resume(self, torrent_hash: str) -> None:
        self._call("resume", lambda: self._api.torrents_start(torrent_hashes=torrent_hash))

    def delete(self, torrent_hash: str, delete_files: bool = False) -> None:
        self._call("delete", lambda: self._api.torrents_delete(torrent_hashes=torrent_hash, delete_files=delete_files))
