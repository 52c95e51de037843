"""A minimal bencode decoder, enough to find a torrent's ``info`` dict and hash it.

Written here rather than pulled in as a dependency: decoding is ~40 lines, and the info
hash needs the exact bytes of the ``info`` value, which decoders usually do not expose.
"""

from __future__ import annotations

import hashlib


class BencodeError(ValueError):
    pass


def _decode(data: bytes, index: int, spans: dict | None) -> tuple[object, int]:
    if index >= len(data):
        raise BencodeError("truncated data")
    head = data[index : index + 1]
    if head == b"i":
        end = data.index(b"e", index)
        try:
            return int(data[index + 1 : end]), end + 1
        except ValueError:
            raise BencodeError(f"bad integer at {index}") from None
    if head == b"l":
        items, index = [], index + 1
        while data[index : index + 1] != b"e":
            item, index = _decode(data, index, None)
            items.append(item)
        return items, index + 1
    if head == b"d":
        result, index = {}, index + 1
        while data[index : index + 1] != b"e":
            key, index = _decode(data, index, None)
            if not isinstance(key, bytes):
                raise BencodeError(f"dictionary key at {index} is not a string")
            start = index
            result[key], index = _decode(data, index, None)
            if spans is not None:
                spans[key] = (start, index)
        return result, index + 1
    if head.isdigit():
        colon = data.index(b":", index)
        length = int(data[index:colon])
        end = colon + 1 + length
        if end > len(data):
            raise BencodeError("truncated string")
        return data[colon + 1 : end], end
    raise BencodeError(f"unexpected byte {head!r} at {index}")


def decode(data: bytes) -> object:
    """The decoded value (bytes, int, list, dict with bytes keys)."""
    try:
        value, end = _decode(data, 0, None)
    except (IndexError, ValueError, RecursionError) as exc:
        raise BencodeError(str(exc)) from None
    if end != len(data):
        raise BencodeError("trailing data")
    return value


def info_hash(torrent: bytes) -> str:
    """The 40-hex SHA-1 of the bencoded ``info`` dict, taken from the original bytes."""
    if not torrent.startswith(b"d"):
        raise BencodeError("a torrent file is a bencoded dictionary")
    spans: dict = {}
    try:
        top, end = _decode(torrent, 0, spans)
    except (IndexError, ValueError, RecursionError) as exc:
        raise BencodeError(str(exc)) from None
    if end != len(torrent) or b"info" not in spans or not isinstance(top[b"info"], dict):
        raise BencodeError("no info dictionary")
    start, stop = spans[b"info"]
    return hashlib.sha1(torrent[start:stop]).hexdigest()  # noqa: S324 - BitTorrent v1 defines it


def encode(value: object) -> bytes:
    """Bencode ``value`` (used by tests to build torrents)."""
    if isinstance(value, bool):
        raise TypeError("booleans have no bencode form")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(encode(item) for item in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(encode(k) + encode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")
