"""Read what an audio file says about itself with mutagen: stream info and audiobook tags.

One reader per tag family (ID3, iTunes MP4, Vorbis comments) maps the many spellings of the
same thing (``©mvn``, ``MVNM``, ``TXXX:SERIES``, ``SERIES``) onto one small ``AudioTags``.
``read_audio`` raises ``UnreadableAudio`` for anything mutagen cannot parse, so a corrupt
file is a report line, never a crash.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import mutagen
from mutagen import id3
from mutagen.aac import AAC
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

AUDIO_EXTENSIONS = frozenset({"mp3", "m4a", "m4b", "flac", "ogg", "opus", "aac"})

_CLASSES = {"mp3": MP3, "m4a": MP4, "m4b": MP4, "flac": FLAC, "opus": OggOpus, "ogg": OggVorbis, "aac": AAC}
_CHAPTER_KEY = re.compile(r"^CHAPTER\d+$")


class UnreadableAudio(Exception):
    """The file is missing, unreadable, or not audio mutagen understands."""


@dataclass
class AudioTags:
    """The stream information and tags of one audio file; text fields are "" when absent."""

    duration: float | None = None
    bitrate_kbps: int | None = None
    codec: str = ""
    chapters: int | None = None
    has_tags: bool = False
    title: str = ""
    subtitle: str = ""
    album: str = ""
    artist: str = ""
    album_artist: str = ""
    composer: str = ""
    narrator: str = ""
    genre: str = ""
    year: str = ""
    series: str = ""
    series_part: str = ""
    grouping: str = ""
    asin: str = ""
    isbn: str = ""
    publisher: str = ""
    description: str = ""
    language: str = ""


# Tag names per field, in order of preference; the first one present wins.
_ID3_TEXT = {
    "title": ("TIT2",),
    "subtitle": ("TIT3",),
    "album": ("TALB",),
    "artist": ("TPE1",),
    "album_artist": ("TPE2",),
    "composer": ("TCOM",),
    "genre": ("TCON",),
    "year": ("TDRC", "TYER", "TDOR", "TORY"),
    "series": ("MVNM",),
    "series_part": ("MVIN",),
    "grouping": ("TIT1", "GRP1"),
    "publisher": ("TPUB",),
    "language": ("TLAN",),
    "description": ("COMM",),
}
_FREEFORM = {
    "narrator": ("NARRATOR", "NARRATEDBY", "NARRATED BY", "READER"),
    "series": ("SERIES", "MOVEMENTNAME"),
    "series_part": ("SERIES-PART", "SERIES_PART", "SERIESPART", "SERIES PART", "SERIES-INDEX", "MOVEMENT"),
    "asin": ("ASIN", "AUDIBLE_ASIN", "AUDIBLEASIN", "CDEK"),
    "isbn": ("ISBN",),
    "subtitle": ("SUBTITLE",),
    "publisher": ("PUBLISHER", "LABEL", "ORGANIZATION"),
    "description": ("DESCRIPTION", "SUMMARY"),
    "language": ("LANGUAGE",),
    "year": ("YEAR", "RELEASEDATE", "DATE"),
}
_MP4_ATOMS = {
    "title": ("©nam",),
    "album": ("©alb",),
    "artist": ("©ART",),
    "album_artist": ("aART",),
    "composer": ("©wrt",),
    "narrator": ("©nrt",),
    "genre": ("©gen", "gnre"),
    "year": ("©day",),
    "series": ("©mvn",),
    "series_part": ("©mvi",),
    "grouping": ("©grp",),
    "publisher": ("©pub",),
    "description": ("ldes", "desc", "©cmt"),
}
_VORBIS = {
    "title": ("TITLE",),
    "album": ("ALBUM",),
    "artist": ("ARTIST",),
    "album_artist": ("ALBUMARTIST", "ALBUM ARTIST", "ALBUM_ARTIST"),
    "composer": ("COMPOSER",),
    "genre": ("GENRE",),
    "grouping": ("GROUPING", "CONTENTGROUP"),
    "description": ("COMMENT",),
}


_ID3_FRAMES = frozenset(frame_id for frame_ids in _ID3_TEXT.values() for frame_id in frame_ids)
_MP4_KEYS = frozenset(atom for atoms in _MP4_ATOMS.values() for atom in atoms)


def read_audio(path: str, extension: str | None = None) -> AudioTags:
    """Stream info and tags of the file at ``path``; raises ``UnreadableAudio``."""
    ext = (extension or os.path.splitext(path)[1].lstrip(".")).lower()
    audio = _open(path, ext)
    result = AudioTags()
    info = audio.info
    length = getattr(info, "length", None)
    result.duration = float(length) if length and length > 0 else None
    bitrate = getattr(info, "bitrate", 0) or 0
    result.bitrate_kbps = round(bitrate / 1000) if bitrate > 0 else None
    result.codec = _codec(ext, info)
    tags = audio.tags
    if isinstance(audio, MP4):
        _read_mp4(tags, result)
        result.chapters = len(audio.chapters) if getattr(audio, "chapters", None) else None
    elif isinstance(tags, id3.ID3):
        _read_id3(tags, result)
    elif ext == "aac":
        _read_id3(_aac_id3(path), result)
    elif tags is not None:
        _read_vorbis(tags, result)
    return result


def _open(path: str, ext: str):
    """The mutagen object for ``path``: the class its extension names, else mutagen's own guess."""
    try:
        kind = _CLASSES.get(ext)
        if kind is not None:
            try:
                return kind(path)
            except mutagen.MutagenError:
                pass  # a mislabelled file (an .mp3 that is really MP4) gets a second chance below
        audio = mutagen.File(path)
    except (mutagen.MutagenError, OSError, ValueError, EOFError) as exc:
        raise UnreadableAudio(_reason(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - mutagen parsers can raise anything on hostile input
        raise UnreadableAudio(f"{type(exc).__name__}: {exc}") from exc
    if audio is None:
        raise UnreadableAudio("not an audio format mutagen recognises")
    return audio


def _reason(exc: BaseException) -> str:
    cause = exc.__context__ if isinstance(exc, mutagen.MutagenError) and exc.__context__ else exc
    text = str(exc) or type(cause).__name__
    return text if not isinstance(cause, OSError) else f"{type(cause).__name__}: {cause.strerror or text}"


def _codec(ext: str, info) -> str:
    codec = getattr(info, "codec", "") or ""
    if codec.startswith("mp4a"):
        return "aac"
    if codec:
        return codec
    return {"m4a": "aac", "m4b": "aac", "ogg": "vorbis"}.get(ext, ext)


def _aac_id3(path: str):
    try:
        return id3.ID3(path)
    except (mutagen.MutagenError, OSError):
        return None


def _text(values) -> str:
    """One string from a tag's values: strings joined with "; ", numbers as text."""
    if values is None:
        return ""
    if isinstance(values, (str, bytes, int)):
        values = [values]
    parts = []
    for value in values:
        if isinstance(value, bytes):  # MP4FreeForm (a bytes subclass) and other raw atoms
            value = value.decode("utf-8", "replace")
        elif isinstance(value, tuple):  # trkn-style pairs
            value = value[0]
        text = str(value).replace("\x00", "").strip()
        if text:
            parts.append(text)
    return "; ".join(parts)


def _fill(result: AudioTags, mapping: dict[str, tuple[str, ...]], values: dict[str, str]) -> None:
    """Set each still-empty field of ``result`` from the first of its tag names found in ``values``."""
    for name, keys in mapping.items():
        if getattr(result, name):
            continue
        for key in keys:
            value = values.get(key)
            if value:
                setattr(result, name, value)
                break


def _read_id3(tags, result: AudioTags) -> None:
    if not tags:
        return
    result.has_tags = True
    frames: dict[str, str] = {}
    freeform: dict[str, str] = {}
    chapters = 0
    for frame in tags.values():  # one pass; pictures and other frames are never decoded to text
        frame_id = frame.FrameID
        if frame_id == "TXXX":
            freeform[frame.desc.strip().upper()] = _text(frame.text)
        elif frame_id == "CHAP":
            chapters += 1
        elif frame_id == "COMM":
            if frame.desc.strip().upper() in ("", "DESCRIPTION") and "COMM" not in frames:
                frames["COMM"] = _text(frame.text)
        elif frame_id in _ID3_FRAMES:
            frames[frame_id] = _text(frame.text)
    # Audiobook-specific TXXX frames first: they beat the generic ones (MVNM is also used for music).
    _fill(result, _FREEFORM, freeform)
    _fill(result, _ID3_TEXT, frames)
    result.chapters = chapters or None


def _read_mp4(tags, result: AudioTags) -> None:
    if not tags:
        return
    result.has_tags = True
    atoms: dict[str, str] = {}
    freeform: dict[str, str] = {}
    for key, values in tags.items():
        if key.startswith("----:"):
            # "----:<mean>:<name>": taggers disagree on the mean (com.apple.iTunes, com.pilabor.tone, …).
            freeform[key.rsplit(":", 1)[-1].strip().upper()] = _text(values)
        elif key in _MP4_KEYS:
            atoms[key] = _text(values)
    _fill(result, _FREEFORM, freeform)
    _fill(result, _MP4_ATOMS, atoms)


def _read_vorbis(tags, result: AudioTags) -> None:
    values = {key.upper(): _text(items) for key, items in tags.as_dict().items()}
    if not values:
        return
    result.has_tags = True
    _fill(result, _VORBIS, values)
    _fill(result, _FREEFORM, values)
    result.chapters = sum(1 for key in values if _CHAPTER_KEY.match(key)) or None
