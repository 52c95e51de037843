"""What folder and file names say about a book: ``Author/Series/03 - Title`` and friends.

``guess_from_path`` reads the last (at most three) path components of a book; ``parse_name``
reads one name ("Series #2.5 - Title", "Book 4", "01-03 - Omnibus", "Title (Series, Book 3)");
``split_people`` turns "Preston & Child" or "Kramer, Michael; Kate Reading" into names.
Only the standard library: this is pure text work, tested without files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from library import naming
from library.positions import parse_position

_NUM = r"\d{1,4}(?:\.\d{1,3})?"
_POS = rf"(?P<pos>{_NUM}(?:\s*(?:-|–|to)\s*{_NUM})?)"
_KEYWORD = r"(?:books?|vols?\.?|volumes?)"
_SEP = r"(?:\s*[-–:_]\s*|\.\s+)"

# Ordered: the first pattern that matches a name wins.
_NAME_PATTERNS = [
    # "Book 4", "Book 4 - Title", "Vol. 2: Title", "#3 - Title", "Books 1-3 - Omnibus"
    re.compile(rf"^(?:{_KEYWORD}\s*|#\s*){_POS}(?:{_SEP}(?P<title>.+))?$", re.I),
    # "03 - Title", "3. Title", "01-03 - Omnibus"
    re.compile(rf"^{_POS}{_SEP}(?P<title>.+)$", re.I),
    # "Series, Book 4 - Title", "Series Vol. 2"
    re.compile(rf"^(?P<series>.+?)(?:,\s*|\s+){_KEYWORD}\s*{_POS}(?:{_SEP}(?P<title>.+))?$", re.I),
    # "Series #2.5", "Series #2 - Title"
    re.compile(rf"^(?P<series>.+?)\s*#\s*{_POS}(?:{_SEP}(?P<title>.+))?$", re.I),
    # "Series 1-3", "Series 1-3 - Omnibus" (a bare trailing number is too often part of a title)
    re.compile(rf"^(?P<series>.*?\D)\s+(?P<pos>{_NUM}\s*(?:-|–)\s*{_NUM})(?:{_SEP}(?P<title>.+))?$", re.I),
]
# "Title (Series #3)", "Title [Series, Book 3]", "Title (Series 1-3)"
_BRACKETED_SERIES = re.compile(
    rf"^(?P<title>.+?)\s*[(\[](?P<series>[^()\[\]]+?)(?:\s*#\s*|,?\s*{_KEYWORD}\s*|,?\s+){_POS}[)\]]$", re.I
)
_AUTHOR_TITLE = re.compile(r"^(?P<author>[^\d\W][^-–]*?)\s+[-–]\s+(?P<title>.+)$")
_NARRATOR = re.compile(r"\s*\{(?P<narrator>[^{}]+)\}\s*")
_YEAR = r"1[5-9]\d\d|20\d\d"
_YEAR_PREFIX = re.compile(rf"^(?:[(\[](?P<year>{_YEAR})[)\]]\s*[-–.]?|(?P<bare>{_YEAR})\s*[-–])\s*(?=\S)")
_YEAR_SUFFIX = re.compile(rf"\s*[(\[](?P<year>{_YEAR})[)\]]\s*$")
_ABRIDGED = re.compile(r"\s*[(\[](?P<word>un)?abridged[)\]]\s*", re.I)

_PEOPLE_SPLIT = re.compile(r"\s*(?:;|&|\+|/|\band\b)\s*", re.I)
_ROLE = re.compile(r"\((?:translat\w*|editor|ed\.|foreword|introduction|intro|contributor|illustrat\w*)\)", re.I)
_READ_BY = re.compile(r"^(?:narrated|read|performed)\s+by\s+", re.I)
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "phd", "md"}


@dataclass(frozen=True)
class NameParts:
    """What one folder or file name says; empty strings where it says nothing."""

    title: str = ""
    series: str = ""
    position: str = ""
    narrator: str = ""
    year: int | None = None
    abridged: bool | None = None


@dataclass(frozen=True)
class PathGuess:
    """What a book's path says: ``Author/Series/NN - Title`` or ``Author/Title``."""

    title: str = ""
    authors: tuple[str, ...] = ()
    series: str = ""
    position: str = ""
    narrators: tuple[str, ...] = ()
    year: int | None = None
    abridged: bool | None = None


def _valid_position(label: str) -> str:
    """The normalised label ("01" → "1", "1 – 3" → "1-3"), or "" when it is not a position."""
    try:
        return parse_position(label).label
    except ValueError:
        return ""


def _strip_extras(name: str) -> tuple[str, NameParts]:
    """Remove narrator braces, a year and (un)abridged markers; return the rest and what was found."""
    found = {}
    narrator = _NARRATOR.search(name)
    if narrator:
        found["narrator"] = naming.clean(narrator.group("narrator"))
        name = _NARRATOR.sub(" ", name)
    abridged = _ABRIDGED.search(name)
    if abridged:
        found["abridged"] = abridged.group("word") is None
        name = _ABRIDGED.sub(" ", name)
    name = naming.clean(name)
    for pattern in (_YEAR_SUFFIX, _YEAR_PREFIX):
        year = pattern.search(name)
        if year and pattern.sub("", name).strip():
            found["year"] = int(year.group("year") or year.group("bare"))
            name = naming.clean(pattern.sub("", name))
    return name, NameParts(**found)


def parse_name(name: str) -> NameParts:
    """Title, series, position, narrator and year found in one folder or file name."""
    rest, extras = _strip_extras(name)
    for pattern in _NAME_PATTERNS:
        match = pattern.match(rest)
        if not match:
            continue
        position = _valid_position(match.group("pos"))
        if not position:
            continue
        groups = match.groupdict()
        return replace(
            extras,
            title=naming.clean(groups.get("title") or ""),
            series=naming.clean(groups.get("series") or "").rstrip(",").strip(),
            position=position,
        )
    bracketed = bracketed_series(rest)
    if bracketed:
        return replace(extras, title=bracketed[0], series=bracketed[1], position=bracketed[2])
    return replace(extras, title=rest)


def bracketed_series(text: str) -> tuple[str, str, str] | None:
    """``("Title", "Series", "3")`` from "Title (Series #3)" or "Title [Series, Book 3]", else None."""
    match = _BRACKETED_SERIES.match(naming.clean(text))
    if not match:
        return None
    position = _valid_position(match.group("pos"))
    series = naming.clean(match.group("series")).rstrip(",").strip()
    if not position or not series:
        return None
    return naming.clean(match.group("title")), series, position


def guess_from_path(parts: Sequence[str]) -> PathGuess:
    """What the path components of a book (relative to the library root) say about it.

    The last component names the book; above it come ``Series`` and ``Author`` (deeper
    folders are ignored).  A lone name may read "Author - Title".
    """
    parts = [naming.clean(part) for part in parts if naming.clean(part)]
    if not parts:
        return PathGuess()
    parents = parts[:-1][-2:]
    name = parts[-1]
    authors: list[str] = split_people(parents[0]) if parents else []
    folder_series = parents[1] if len(parents) == 2 else ""
    parsed = parse_name(name)
    if not parents and not parsed.position:
        author_title = _AUTHOR_TITLE.match(parsed.title)
        if author_title:
            authors = split_people(author_title.group("author"))
            parsed = replace(parse_name(author_title.group("title")), narrator=parsed.narrator, year=parsed.year)
    series = folder_series or parsed.series
    title = parsed.title
    if not title:
        # "Mistborn #2.5" is a fine title; a bare "Book 4" or "03" needs its series to make one.
        title = name if parsed.series or not series else f"{series}, Book {parsed.position}"
    position = parsed.position if series else ""
    return PathGuess(
        title=title,
        authors=tuple(authors),
        series=series,
        position=position,
        narrators=tuple(split_people(parsed.narrator)) if parsed.narrator else (),
        year=parsed.year,
        abridged=parsed.abridged,
    )


def split_people(text: str) -> list[str]:
    """Names in a people string, display form, first mention kept.

    Splits on ``;``, ``&``, ``+``, ``/`` and "and"; commas split too, except in a lone
    "Last, First" (or "Name, Jr.") pair.  Translators, editors and the like are dropped.
    """
    return list(_split_people(text))


@lru_cache(maxsize=8192)  # a library repeats the same few thousand author and narrator strings
def _split_people(text: str) -> tuple[str, ...]:
    names: list[str] = []
    seen: set[str] = set()
    for chunk in _PEOPLE_SPLIT.split(naming.clean(text)):
        for name in _split_commas(chunk):
            if _ROLE.search(name):
                continue
            name = naming.person_name(_READ_BY.sub("", name)).strip(" ,-")
            key = naming.name_key(name)
            if name and key not in seen:
                seen.add(key)
                names.append(name)
    return tuple(names)


def _split_commas(chunk: str) -> list[str]:
    pieces = [piece.strip() for piece in chunk.split(",") if piece.strip()]
    if len(pieces) == 2:
        last, first = pieces
        if first.lower().rstrip(".") in _SUFFIXES or (" " not in last and " " not in first.rstrip(".")):
            return [chunk]
    return pieces
