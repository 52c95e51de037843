"""Audiobookshelf library items in our terms, and what "the same value" means on both sides.

``abs_item_map`` turns an item of ``GET /api/libraries/{id}/items`` into book fields,
author and narrator names and series positions; ``ours``/``theirs`` give a field's value
in display form and ``comparison_key`` the form in which both sides are compared.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from library import naming
from library.models import Book, SeriesEntry
from library.positions import Position, format_position, parse_position

SCALARS = (
    "title",
    "subtitle",
    "isbn",
    "asin",
    "publisher",
    "published_year",
    "language",
    "description",
    "duration_seconds",
    "size_bytes",
)
RELATIONS = ("authors", "narrators", "series")

_ISBN = re.compile(r"^(?:\d{9}[\dX]|\d{13})$")
_ASIN = re.compile(r"^[A-Z0-9]{10}$")
_YEAR = re.compile(r"^\s*(\d{1,4})")
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|&)\s*")
_SERIES_PART = re.compile(r"^(?P<name>.*?)\s*#\s*(?P<sequence>[^#]+)$")
_MAX_INT = 2**31 - 1
DISPLAY_LIMIT = 200


@dataclass
class AbsItem:
    """An Audiobookshelf library item in our terms."""

    abs_id: str
    library_id: str
    path: str
    rel_path: str
    fields: dict
    authors: list[str]
    narrators: list[str]
    series: list[tuple[str, Position]]


def abs_item_map(item: dict, library_id: str = "") -> AbsItem:
    """Map an ABS library item to book fields, people and series positions.

    ``authors[]``, ``narrators[]`` and ``series[]`` (with ``sequence``) win over the flat
    ``authorName``, ``narratorName`` and ``seriesName`` (which minified items carry alone).
    Raises ``ValueError`` for an item without id or title.
    """
    abs_id = str(item.get("id") or "").strip()
    media = item.get("media") if isinstance(item.get("media"), dict) else {}
    metadata = media.get("metadata") if isinstance(media.get("metadata"), dict) else {}
    title = _text(metadata.get("title"), 500)
    if not abs_id:
        raise ValueError("Item without an id.")
    if not title:
        raise ValueError(f"Item {abs_id} has no title.")
    fields = {
        "title": title,
        "subtitle": _text(metadata.get("subtitle"), 500),
        "isbn": _identifier(metadata.get("isbn"), _ISBN, strip=r"[\s-]"),
        "asin": _identifier(metadata.get("asin"), _ASIN, strip=r"\s"),
        "publisher": _text(metadata.get("publisher"), 255),
        "published_year": _year(metadata.get("publishedYear")),
        "language": _text(metadata.get("language"), 32),
        "description": str(metadata.get("description") or "").strip(),
        "duration_seconds": _positive_int(media.get("duration")),
        "size_bytes": _positive_int(media.get("size"), limit=None),
    }
    return AbsItem(
        abs_id=abs_id[:64],
        library_id=str(item.get("libraryId") or library_id),
        path=str(item.get("path") or ""),
        rel_path=str(item.get("relPath") or ""),
        fields=fields,
        authors=_authors(metadata),
        narrators=_narrators(metadata),
        series=_series(metadata),
    )


def _text(value, limit: int) -> str:
    return naming.clean(str(value))[:limit] if value is not None else ""


def _identifier(value, pattern: re.Pattern, *, strip: str) -> str:
    """An ISBN/ASIN without separators, upper-cased; anything malformed is dropped."""
    text = re.sub(strip, "", str(value or "")).upper()
    return text if pattern.match(text) else ""


def _year(value) -> int | None:
    match = _YEAR.match(str(value or ""))
    year = int(match.group(1)) if match else 0
    return year if year > 0 else None


def _positive_int(value, *, limit: int | None = _MAX_INT) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number <= 0:
        return None
    number = round(number)
    return min(number, limit) if limit else number


def _unique_people(names) -> list[str]:
    seen, unique = set(), []
    for name in names:
        shown = naming.person_name(str(name or ""))[:255]
        key = naming.name_key(shown)
        if key and key not in seen:
            seen.add(key)
            unique.append(shown)
    return unique


def _authors(metadata: dict) -> list[str]:
    listed = metadata.get("authors")
    if isinstance(listed, list) and listed:
        return _unique_people(author.get("name") if isinstance(author, dict) else author for author in listed)
    names = []
    for part in _AUTHOR_SPLIT.split(naming.clean(str(metadata.get("authorName") or ""))):
        pieces = [piece.strip() for piece in part.split(",") if piece.strip()]
        # ABS joins authors with ", "; "Sanderson, Brandon" is one name written last-first.
        if len(pieces) == 2 and " " not in pieces[0]:
            names.append(part)
        else:
            names.extend(pieces)
    return _unique_people(names)


def _narrators(metadata: dict) -> list[str]:
    listed = metadata.get("narrators")
    if isinstance(listed, list) and listed:
        return _unique_people(listed)
    return _unique_people(naming.split_narrators(str(metadata.get("narratorName") or "")))


def _position(sequence) -> Position:
    """A series position from ABS's free-text ``sequence``; text that is no number is dropped."""
    try:
        return parse_position(str(sequence).strip() if sequence is not None else None)
    except ValueError:
        return Position(None, None, "")


def _series(metadata: dict) -> list[tuple[str, Position]]:
    listed = metadata.get("series")
    pairs = []
    if isinstance(listed, list) and listed:
        pairs = [(entry.get("name"), entry.get("sequence")) for entry in listed if isinstance(entry, dict)]
    else:
        # Flat form: "Name #1, Other Name #2.5".
        for part in str(metadata.get("seriesName") or "").split(", "):
            match = _SERIES_PART.match(part.strip())
            pairs.append((match["name"], match["sequence"]) if match else (part, None))
    result, seen = [], set()
    for name, sequence in pairs:
        shown = naming.clean(str(name or ""))[:255]
        if shown and naming.name_key(shown) not in seen:
            seen.add(naming.name_key(shown))
            result.append((shown, _position(sequence)))
    return result


# --- comparing ---------------------------------------------------------------------------


def entry_label(entry: SeriesEntry) -> str:
    """A series entry's position label in the normal form ``parse_position`` gives ("1", "2.5", "1-3")."""
    if entry.position_label:
        try:
            return parse_position(entry.position_label).label
        except ValueError:
            return entry.position_label
    return format_position(entry.position) or ""


def series_text(name: str, label: str) -> str:
    """ "Saga #2" (or just "Saga" without a position), as ABS writes ``seriesName``."""
    return f"{name} #{label}" if label else name


def ours(book: Book, name: str):
    """Our value of ``name`` in the display form used by the drift report (relations prefetched)."""
    if name == "authors":
        return [link.author.name for link in book.book_authors.all()]
    if name == "narrators":
        return sorted(narrator.name for narrator in book.narrators.all())
    if name == "series":
        return sorted(series_text(entry.series.name, entry_label(entry)) for entry in book.series_entries.all())
    return getattr(book, name)


def theirs(item: AbsItem, name: str):
    """ABS's value of ``name`` in the same display form as ``ours``."""
    if name == "authors":
        return list(item.authors)
    if name == "narrators":
        return sorted(item.narrators)
    if name == "series":
        return sorted(series_text(series_name, position.label) for series_name, position in item.series)
    return item.fields[name]


def comparison_key(book_or_item, name: str):
    """What equality means for ``name``: names compare normalised, people and series in any order."""
    if isinstance(book_or_item, Book):
        if name == "authors":
            return [link.author.name_key for link in book_or_item.book_authors.all()]
        if name == "narrators":
            return sorted({narrator.name_key for narrator in book_or_item.narrators.all()})
        if name == "series":
            return sorted({(entry.series.name_key, entry_label(entry)) for entry in book_or_item.series_entries.all()})
        return getattr(book_or_item, name)
    if name == "authors":
        return [naming.person_key(author) for author in book_or_item.authors]
    if name == "narrators":
        return sorted({naming.person_key(narrator) for narrator in book_or_item.narrators})
    if name == "series":
        return sorted({(naming.name_key(series_name), position.label) for series_name, position in book_or_item.series})
    return book_or_item.fields[name]


def is_empty(value) -> bool:
    return value in (None, "", [])


def shorten(value):
    """A value short enough for a JobRun summary."""
    if isinstance(value, str) and len(value) > DISPLAY_LIMIT:
        return value[: DISPLAY_LIMIT - 1] + "…"
    return value


def source_of(book: Book, name: str) -> str | None:
    stamp = (book.metadata_sources or {}).get(name)
    return stamp.get("source") if isinstance(stamp, dict) else None
