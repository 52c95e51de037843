"""Name normalisation for authors, narrators and series."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NARRATOR_SPLIT = re.compile(r"\s*(?:;|,|&|\band\b)\s*", re.IGNORECASE)
# Suffixes that follow a comma without being a first name ("King, Jr." stays as written).
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "md"}


def clean(value: str) -> str:
    """Trim and collapse white space."""
    return _SPACES.sub(" ", (value or "").strip())


def person_name(value: str) -> str:
    """Display form of a person's name: "Sanderson, Brandon" → "Brandon Sanderson"."""
    name = clean(value)
    if name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        if last and first and first.lower() not in _SUFFIXES:
            name = f"{first} {last}"
    return name


def name_key(value: str) -> str:
    """Case- and accent-insensitive key used for uniqueness and matching."""
    folded = unicodedata.normalize("NFKD", clean(value)).casefold()
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _SPACES.sub(" ", re.sub(r"[.\s]+", " ", folded)).strip()


def person_key(value: str) -> str:
    return name_key(person_name(value))


def sort_name(value: str) -> str:
    """ "Brandon Sanderson" → "Sanderson, Brandon" (single names stay as they are)."""
    name = person_name(value)
    parts = name.rsplit(" ", 1)
    if len(parts) == 2 and parts[1].lower().rstrip(".") not in {s.rstrip(".") for s in _SUFFIXES}:
        return f"{parts[1]}, {parts[0]}"
    return name


def split_narrators(value: str) -> list[str]:
    """Split a narrator string on ``;``, ``,``, ``&`` and " and "."""
    names = [person_name(part) for part in _NARRATOR_SPLIT.split(clean(value))]
    seen: set[str] = set()
    unique = []
    for name in names:
        if name and name_key(name) not in seen:
            seen.add(name_key(name))
            unique.append(name)
    return unique
