"""What a torrent file or magnet link says about itself: info hash, name, size, tracker.

Bytes from users are untrusted: anything that is not a bencoded torrent with an ``info``
dictionary is an ``AppValidationError`` (a 422 in the API), never a 500.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from downloads.bencode import BencodeError, decode
from downloads.bencode import info_hash as bencode_info_hash
from mamcrawler.api.exceptions import AppValidationError

MAX_TORRENT_BYTES = 10 * 1024 * 1024  # SPEC §11: uploads ≤ 10 MiB
_BTIH = re.compile(r"^urn:btih:([0-9a-fA-F]{40}|[A-Z2-7a-z]{32})$")


@dataclass(frozen=True)
class TorrentMeta:
    info_hash: str
    name: str
    size_bytes: int
    trackers: tuple[str, ...]

    @property
    def tracker_hosts(self) -> set[str]:
        return {(urlsplit(url).hostname or "").lower() for url in self.trackers}


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value or "")


def torrent_meta(data: bytes, *, field: str = "file") -> TorrentMeta:
    """Parse a ``.torrent``; raises ``AppValidationError`` (on ``field``) when it is not one."""
    if len(data) > MAX_TORRENT_BYTES:
        raise AppValidationError(f"A torrent file may be at most {MAX_TORRENT_BYTES // (1024 * 1024)} MiB.")
    try:
        decoded = decode(data)
        torrent_hash = bencode_info_hash(data)
    except BencodeError as exc:
        raise AppValidationError(f"The {field} is not a bencoded torrent: {exc}.") from exc
    info = decoded.get(b"info") if isinstance(decoded, dict) else None
    if not isinstance(info, dict):
        raise AppValidationError(f"The {field} is not a torrent: it has no info dictionary.")
    size = info.get(b"length")
    if not isinstance(size, int):
        files = info.get(b"files") if isinstance(info.get(b"files"), list) else []
        size = sum(f.get(b"length", 0) for f in files if isinstance(f, dict) and isinstance(f.get(b"length"), int))
    trackers = [_text(decoded.get(b"announce"))] if decoded.get(b"announce") else []
    for tier in decoded.get(b"announce-list") or []:
        if isinstance(tier, list):
            trackers.extend(_text(url) for url in tier)
    return TorrentMeta(
        info_hash=torrent_hash,
        name=_text(info.get(b"name"))[:500],
        size_bytes=max(0, size),
        trackers=tuple(trackers),
    )


def magnet_meta(magnet: str) -> TorrentMeta:
    """Parse a ``magnet:?xt=urn:btih:…`` link (hex or base32 hash); raises ``AppValidationError``."""
    parts = urlsplit(magnet.strip())
    if parts.scheme != "magnet":
        raise AppValidationError("A magnet link starts with magnet:?")
    query = parse_qs(parts.query)
    for topic in query.get("xt", []):
        match = _BTIH.match(topic)
        if not match:
            continue
        value = match.group(1)
        if len(value) == 32:
            try:
                value = base64.b32decode(value.upper()).hex()
            except (binascii.Error, ValueError) as exc:
                raise AppValidationError("The magnet link's info hash is not valid base32.") from exc
        size = query.get("xl", ["0"])[0]
        return TorrentMeta(
            info_hash=value.lower(),
            name=query.get("dn", [""])[0][:500],
            size_bytes=int(size) if size.isdigit() else 0,
            trackers=tuple(query.get("tr", [])),
        )
    raise AppValidationError("The magnet link has no BitTorrent v1 info hash (xt=urn:btih:…).")
