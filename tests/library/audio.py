"""Tiny but real audio files for scan tests and the bench, written with mutagen alone.

MP3: a few MPEG-1 Layer III frames (128 kbps, 44.1 kHz) of silence, optionally with a Xing
header that claims a longer length, then ID3 tags.  MP4 (m4b/m4a): ftyp, mdat and a moov with
one AAC sound track whose ``mdhd`` carries the duration, optional Nero chapters, then iTunes
tags.  FLAC: a STREAMINFO block and Vorbis comments.  None of them decode to anything but
silence; they only have to satisfy mutagen, which is all the scanner reads.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from pathlib import Path

from mutagen import id3
from mutagen.flac import FLAC
from mutagen.mp4 import MP4, MP4FreeForm

MP3_HEADER = b"\xff\xfb\x90\x64"  # MPEG-1 Layer III, 128 kbps, 44.1 kHz, joint stereo, no CRC
MP3_FRAME_BYTES = 417  # 144 * 128000 // 44100
SAMPLES_PER_FRAME = 1152
SAMPLE_RATE = 44100
XING_OFFSET = 4 + 32  # header + MPEG-1 stereo side information

TagValue = str | int | Iterable[str]


def _frame(payload: bytes = b"") -> bytes:
    return MP3_HEADER + payload + b"\x00" * (MP3_FRAME_BYTES - 4 - len(payload))


def mp3_bytes(*, seconds: float | None = None, frames: int = 8) -> bytes:
    """MPEG audio frames; with ``seconds``, a Xing frame says the stream lasts that long."""
    body = b"".join(_frame() for _ in range(frames))
    if seconds is None:
        return body
    claimed = round(seconds * SAMPLE_RATE / SAMPLES_PER_FRAME)
    xing = b"\x00" * (XING_OFFSET - 4) + b"Xing" + struct.pack(">II", 1, claimed)  # flag 1: frame count
    return _frame(xing) + body


def write_mp3(
    path: Path, *, tags: Mapping[str, TagValue] | None = None, seconds: float | None = None, v2_version: int = 4
) -> Path:
    """An MP3 with ID3 ``tags``: ``{"TALB": "Title", "TXXX:SERIES": "Saga", "COMM": "text"}``.

    Without ``seconds`` mutagen estimates the length from the size (8 frames ≈ 0.21 s).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(mp3_bytes(seconds=seconds))
    if tags:
        frames = id3.ID3()
        for key, value in tags.items():
            frames.add(_id3_frame(key, value))
        frames.save(path, v2_version=v2_version)
    return path


def _id3_frame(key: str, value: TagValue) -> id3.Frame:
    text = [value] if isinstance(value, (str, int)) else list(value)
    text = [str(item) for item in text]
    name, _, desc = key.partition(":")
    if name == "TXXX":
        return id3.TXXX(encoding=3, desc=desc, text=text)
    if name == "COMM":
        return id3.COMM(encoding=3, lang="eng", desc=desc, text=text)
    return getattr(id3, name)(encoding=3, text=text)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _full_box(kind: bytes, payload: bytes, version: int = 0, flags: int = 0) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags) + payload)


def _descriptor(tag: int, payload: bytes) -> bytes:
    return bytes([tag, len(payload)]) + payload


def _esds(bitrate: int) -> bytes:
    audio_specific_config = b"\x12\x10"  # AAC LC, 44.1 kHz, stereo
    decoder_config = _descriptor(
        0x04,
        bytes([0x40, 0x15])  # MPEG-4 audio, audio stream
        + b"\x00\x00\x00"  # buffer size
        + struct.pack(">II", bitrate, bitrate)
        + _descriptor(0x05, audio_specific_config),
    )
    es = _descriptor(0x03, b"\x00\x01\x00" + decoder_config + _descriptor(0x06, b"\x02"))
    return _full_box(b"esds", es)


def _chpl(chapters: Iterable[tuple[float, str]]) -> bytes:
    items = list(chapters)
    body = b"\x00\x00\x00\x00" + bytes([len(items)])
    for start, title in items:
        encoded = title.encode()
        body += struct.pack(">Q", round(start * 10_000_000)) + bytes([len(encoded)]) + encoded
    return _full_box(b"chpl", body, version=1)


def mp4_bytes(*, seconds: float, bitrate: int = 64000, brand: bytes = b"M4B ", chapters=()) -> bytes:
    timescale = SAMPLE_RATE
    duration = round(seconds * timescale)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _full_box(
        b"mvhd",
        struct.pack(">IIII", 0, 0, timescale, duration)
        + struct.pack(">IH", 0x10000, 0x100)
        + b"\x00" * 10
        + matrix
        + b"\x00" * 24
        + struct.pack(">I", 2),
    )
    tkhd = _full_box(
        b"tkhd",
        struct.pack(">IIIII", 0, 0, 1, 0, duration) + b"\x00" * 8 + struct.pack(">HHHH", 0, 0, 0x100, 0) + matrix,
        flags=7,
    )
    mdhd = _full_box(b"mdhd", struct.pack(">IIIIHH", 0, 0, timescale, duration, 0x55C4, 0))
    hdlr = _full_box(b"hdlr", b"\x00" * 4 + b"soun" + b"\x00" * 12 + b"SoundHandler\x00")
    mp4a = _box(
        b"mp4a",
        b"\x00" * 6 + struct.pack(">H", 1) + b"\x00" * 8 + struct.pack(">HHHHI", 2, 16, 0, 0, SAMPLE_RATE << 16),
    )
    mp4a = _box(b"mp4a", mp4a[8:] + _esds(bitrate))
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", struct.pack(">I", 1) + mp4a)
        + _full_box(b"stts", struct.pack(">I", 0))
        + _full_box(b"stsc", struct.pack(">I", 0))
        + _full_box(b"stsz", struct.pack(">II", 0, 0))
        + _full_box(b"stco", struct.pack(">I", 0)),
    )
    minf = _box(b"minf", _full_box(b"smhd", b"\x00" * 4) + stbl)
    trak = _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + minf))
    udta = _box(b"udta", _chpl(chapters)) if chapters else b""
    ftyp = _box(b"ftyp", brand + struct.pack(">I", 0x200) + b"isomiso2" + brand + b"mp42")
    # mdat before moov: tags growing the moov never move the (silent) media data.
    return ftyp + _box(b"mdat", b"\x00" * 16) + _box(b"moov", mvhd + trak + udta)


def write_mp4(
    path: Path,
    *,
    tags: Mapping[str, TagValue] | None = None,
    seconds: float = 3600.0,
    bitrate: int = 64000,
    chapters: Iterable[tuple[float, str]] = (),
) -> Path:
    """An M4B/M4A with iTunes ``tags``: ``{"©alb": "Title", "©mvi": 2, "----:com.apple.iTunes:SERIES": "Saga"}``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    brand = b"M4A " if path.suffix.lower() == ".m4a" else b"M4B "
    path.write_bytes(mp4_bytes(seconds=seconds, bitrate=bitrate, brand=brand, chapters=tuple(chapters)))
    if tags:
        audio = MP4(path)
        audio.add_tags()
        for key, value in tags.items():
            audio.tags[key] = _mp4_value(key, value)
        audio.save()
    return path


def _mp4_value(key: str, value: TagValue):
    values = [value] if isinstance(value, (str, int)) else list(value)
    if key.startswith("----:"):
        return [MP4FreeForm(str(item).encode()) for item in values]
    if key in ("©mvi", "©mvc"):
        return [int(item) for item in values]
    return [str(item) for item in values]


def write_flac(path: Path, *, tags: Mapping[str, TagValue] | None = None, seconds: float = 60.0) -> Path:
    """A FLAC stream header (no frames) whose STREAMINFO says ``seconds``, with Vorbis comments."""
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = round(seconds * SAMPLE_RATE)
    # 20 bits sample rate, 3 bits channels-1, 5 bits bits-per-sample-1, 36 bits total samples.
    packed = (SAMPLE_RATE << 44) | (1 << 41) | (15 << 36) | samples
    info = struct.pack(">HH", 4096, 4096) + b"\x00" * 6 + packed.to_bytes(8, "big") + b"\x00" * 16
    path.write_bytes(b"fLaC" + bytes([0x80]) + len(info).to_bytes(3, "big") + info)
    if tags:
        audio = FLAC(path)
        for key, value in tags.items():
            audio[key] = [value] if isinstance(value, str) else [str(item) for item in value]
        audio.save()
    return path


def write_corrupt(path: Path, content: bytes = b"this is not audio at all\n" * 40) -> Path:
    """A file with an audio extension and no audio in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path
