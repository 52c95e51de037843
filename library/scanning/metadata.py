"""One book's facts from its files' tags, falling back to what its path says.

Tags win field by field; the folder layout fills what they leave empty.  Values are cut
to the model's lengths and identifiers that do not look like an ISBN or ASIN are dropped,
so whatever a tagger wrote, the result can be saved.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from library import naming
from library.positions import Position, parse_position
from library.scanning.layout import PathGuess, bracketed_series, split_people
from library.scanning.tags import AudioTags
from library.scanning.walker import AudioFile

NAME_LENGTH = 200  # people and series names; their normalised keys must fit 255 characters
_ISBN = re.compile(r"^(?:\d{9}[\dX]|\d{13})$")
_ASIN = re.compile(r"^[A-Z0-9]{10}$")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_PART_OF_TOTAL = re.compile(r"^\s*([\d.]+)\s*/\s*\d+\s*$")  # MVIN / ©mvi "3/7"
_GROUPING = re.compile(
    r"^(?P<series>.+?)\s*(?:#|,?\s*(?:book|vol\.?|volume)\s+)\s*(?P<pos>[\d.]+(?:\s*-\s*[\d.]+)?)$", re.I
)


@dataclass(frozen=True)
class FileFacts:
    """A BookFile row to be: the stat of one file and its stream information."""

    path: str
    size: int
    mtime: float
    format: str
    duration: float | None
    bitrate_kbps: int | None
    codec: str
    chapters: int | None


@dataclass
class BookFacts:
    """What the scan believes about one book, ready for the book services."""

    fields: dict
    authors: list[str]
    narrators: list[str]
    series: list[tuple[str, Position]]
    files: list[FileFacts] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.fields["title"]


def file_facts(item: AudioFile, tags: AudioTags) -> FileFacts:
    return FileFacts(
        path=item.path,
        size=item.size,
        mtime=item.mtime,
        format=item.ext,
        duration=tags.duration,
        bitrate_kbps=tags.bitrate_kbps,
        codec=tags.codec[:32],
        chapters=tags.chapters,
    )


def _first(tags: list[AudioTags], name: str) -> str:
    for item in tags:
        value = getattr(item, name)
        if value:
            return value
    return ""


def _cut(value: str, length: int) -> str:
    return naming.clean(value)[:length].strip()


def _names(names: list[str]) -> list[str]:
    """Names cut to length; names that normalise to nothing ("...", "-") are dropped."""
    cut = (_cut(name, NAME_LENGTH) for name in names)
    return [name for name in cut if naming.name_key(name)]


def _position(label: str) -> Position | None:
    """A position from a tag ("3", "2.5", "1-3", "3/7", "Book 3"), or None when it is not one."""
    match = _PART_OF_TOTAL.match(label)
    try:
        position = parse_position(match.group(1) if match else label)
    except ValueError:
        return None
    return position if position.start is not None else None


def _series(tags: list[AudioTags], guess: PathGuess, title_text: str, warnings: list[str]):
    """``[(name, Position)]``: series tags, then grouping, then "(Series #N)" in the title, then the path."""
    name, label = _first(tags, "series"), _first(tags, "series_part")
    if not name:
        grouping = _first(tags, "grouping")
        match = _GROUPING.match(grouping) if grouping else None
        name, label = (match.group("series"), match.group("pos")) if match else (grouping, "")
    if not name and title_text:
        bracketed = bracketed_series(title_text)
        if bracketed:
            name, label = bracketed[1], bracketed[2]
    if not name and guess.series:
        name, label = guess.series, guess.position
    name = _cut(name.split(";")[0], NAME_LENGTH)
    if not naming.name_key(name):
        return []
    # The folder's "03 - Title" completes a series tag that has no part.
    if not label and guess.position and (not guess.series or naming.name_key(guess.series) == naming.name_key(name)):
        label = guess.position
    position = _position(label) if label else None
    if label and position is None:
        warnings.append(f"Series position {label!r} is not a number or a range; left empty.")
    return [(name, position or Position(None, None, ""))]


def _identifier(value: str, pattern: re.Pattern, strip: str) -> str:
    text = re.sub(strip, "", value.upper()) if value else ""
    return text if pattern.match(text) else ""


def _published(tags: list[AudioTags], guess: PathGuess) -> tuple[int | None, date | None]:
    text = _first(tags, "year")
    exact = _DATE.match(text)
    if exact:
        try:
            day = date(int(exact.group(1)), int(exact.group(2)), int(exact.group(3)))
            return day.year, day
        except ValueError:
            pass
    year = _YEAR.search(text)
    return (int(year.group(1)) if year else guess.year), None


def _weighted_bitrate(files: list[FileFacts]) -> int | None:
    pairs = [(f.bitrate_kbps, f.duration or 0) for f in files if f.bitrate_kbps]
    if not pairs:
        return None
    weight = sum(seconds for _, seconds in pairs)
    if not weight:
        return round(sum(rate for rate, _ in pairs) / len(pairs))
    return round(sum(rate * seconds for rate, seconds in pairs) / weight)


def book_facts(tags: list[AudioTags], guess: PathGuess, files: list[FileFacts], *, single_file: bool) -> BookFacts:
    """Merge the tags of a book's readable files (in order) with its path guess."""
    warnings: list[str] = []
    album, track_title = _first(tags, "album"), _first(tags, "title")
    # Track titles of a multi-file book name chapters; the album names the book.
    tag_title = album or (track_title if single_file else "")
    bracketed = bracketed_series(tag_title) if tag_title else None
    title = _cut(bracketed[0] if bracketed else tag_title, 500) or _cut(guess.title, 500)
    authors = split_people(_first(tags, "album_artist") or _first(tags, "artist")) or list(guess.authors)
    narrators = split_people(_first(tags, "narrator") or _first(tags, "composer")) or list(guess.narrators)
    raw_isbn, raw_asin = _first(tags, "isbn"), _first(tags, "asin")
    isbn = _identifier(raw_isbn, _ISBN, r"[^0-9X]")
    asin = _identifier(raw_asin, _ASIN, r"\s")
    if raw_isbn and not isbn:
        warnings.append(f"ISBN tag {raw_isbn[:40]!r} is not an ISBN-10 or ISBN-13; ignored.")
    if raw_asin and not asin:
        warnings.append(f"ASIN tag {raw_asin[:40]!r} is not a 10-character ASIN; ignored.")
    year, published = _published(tags, guess)
    durations = [f.duration for f in files if f.duration]
    formats = Counter(f.format for f in files)
    fields = {
        "title": title,
        "subtitle": _cut(_first(tags, "subtitle"), 500),
        "isbn": isbn,
        "asin": asin,
        "publisher": _cut(_first(tags, "publisher"), 255),
        "published_year": year if year and year <= 32767 else None,
        "published_date": published,
        "language": _cut(_first(tags, "language"), 32),
        "description": _first(tags, "description")[:20000].strip(),
        "duration_seconds": round(sum(durations)) if durations else None,
        "format": formats.most_common(1)[0][0] if formats else "",
        "bitrate_kbps": _weighted_bitrate(files),
        "size_bytes": sum(f.size for f in files),
    }
    if guess.abridged is not None:
        fields["abridged"] = guess.abridged
    return BookFacts(
        fields=fields,
        authors=_names(authors),
        narrators=_names(narrators),
        series=_series(tags, guess, tag_title, warnings),
        files=files,
        warnings=warnings,
    )
