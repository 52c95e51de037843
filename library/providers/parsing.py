"""Small parsers shared by the providers: dates, ISBNs, languages, positions, request keys."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import date, datetime

from library.naming import clean, name_key, person_name
from library.positions import parse_position
from library.providers.base import SeriesMember

_ISO_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ].*)?\s*$")
_YEAR = re.compile(r"(?<!\d)(1\d{3}|20\d{2})(?!\d)")
_TAGS = re.compile(r"<[^>]+>")
_TEXT_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %Y", "%b %Y", "%m/%d/%Y")
MAX_KEY_LENGTH = 255

# Provider language values (ISO 639-2/B, English names, MARC keys) → ISO 639-1.
_LANGUAGES = {
    "en": ("eng", "english"),
    "de": ("ger", "deu", "german", "deutsch"),
    "fr": ("fre", "fra", "french", "français"),
    "es": ("spa", "spanish", "español"),
    "it": ("ita", "italian", "italiano"),
    "nl": ("dut", "nld", "dutch"),
    "pt": ("por", "portuguese"),
    "ru": ("rus", "russian"),
    "ja": ("jpn", "japanese"),
    "zh": ("chi", "zho", "chinese"),
    "sv": ("swe", "swedish"),
    "da": ("dan", "danish"),
    "no": ("nor", "norwegian"),
    "fi": ("fin", "finnish"),
    "pl": ("pol", "polish"),
}
_LANGUAGE_CODES = {alias: code for code, aliases in _LANGUAGES.items() for alias in (code, *aliases)}


def published(value) -> tuple[int | None, date | None]:
    """``(year, date)`` from "2010", "2010-08", "2010-08-31", an ISO timestamp or "August 31, 2010".

    The date is given only when the day is known, so a year never becomes a false 1 January.
    """
    text = clean(str(value)) if value not in (None, "") else ""
    if not text:
        return None, None
    match = _ISO_DATE.match(text)
    if match:
        year, month, day = (int(part) if part else None for part in match.groups())
        if month and day:
            try:
                return year, date(year, month, day)
            except ValueError:
                return year, None
        return year, None
    for pattern in _TEXT_DATE_FORMATS:
        try:
            moment = datetime.strptime(text, pattern)  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
        return moment.year, (moment.date() if "%d" in pattern else None)
    year = _YEAR.search(text)
    return (int(year.group(1)), None) if year else (None, None)


def isbn_digits(value: str) -> str:
    """An ISBN without hyphens or spaces, upper-case X; "" when it is not 10 or 13 characters."""
    text = re.sub(r"[\s-]", "", str(value or "")).upper()
    if re.fullmatch(r"\d{13}|\d{9}[\dX]", text):
        return text
    return ""


def isbn_list(values) -> list[str]:
    """Valid ISBNs of a list, normalised, without repeats, the ISBN-13s first."""
    isbns = list(dict.fromkeys(isbn for isbn in (isbn_digits(value) for value in values or []) if isbn))
    return sorted(isbns, key=lambda isbn: len(isbn) != 13)


def best_isbn(values) -> str:
    """The first ISBN-13 of a list, else the first ISBN-10."""
    return next(iter(isbn_list(values)), "")


def language(value) -> str:
    """Language code: "eng", "english", "/languages/eng", "en-US" → "en"; unknown values lower-cased."""
    text = clean(str(value or "")).lower().rsplit("/", 1)[-1]
    if not text:
        return ""
    return _LANGUAGE_CODES.get(text) or _LANGUAGE_CODES.get(re.split(r"[-_]", text)[0]) or text


def plain_text(value) -> str:
    """Text without HTML tags or entities (descriptions come as HTML from some services)."""
    if isinstance(value, dict):  # OpenLibrary's {"type": "/type/text", "value": ...}
        value = value.get("value", "")
    text = _TAGS.sub(" ", str(value or "")).replace("\u00a0", " ")
    return clean(html.unescape(text))


def names(values) -> list[str]:
    """Person names in display form, without blanks or repeats."""
    seen, result = set(), []
    for value in values or []:
        name = person_name(value if isinstance(value, str) else (value or {}).get("name", ""))
        if name and name_key(name) not in seen:
            seen.add(name_key(name))
            result.append(name)
    return result


def member(provider: str, title: str, position, **fields) -> SeriesMember | None:
    """A ``SeriesMember`` at a parsed position; ``None`` when the position is not a number or range."""
    try:
        parsed = parse_position(position)
    except (ValueError, ArithmeticError):
        return None
    if parsed.start is None:
        return None
    return SeriesMember(
        provider=provider, title=clean(title), position=parsed.start, position_label=parsed.label, **fields
    )


def position_label(position) -> str:
    """A normalised label ("1", "2.5", "1-3") or "" when the value is not a position."""
    try:
        return parse_position(position).label
    except (ValueError, ArithmeticError):
        return ""


def request_key(kind: str, *parts: str) -> str:
    """``kind:part|part`` with each part normalised; long keys end in a digest to fit the column."""
    key = f"{kind}:" + "|".join(name_key(part) for part in parts)
    if len(key) > MAX_KEY_LENGTH:
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        key = f"{key[: MAX_KEY_LENGTH - 17]}#{digest}"
    return key
