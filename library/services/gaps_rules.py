"""The rules gap analysis applies to series and author gaps alike (SPEC §7.3).

Policy (from settings), priorities, and the normalisation that decides whether two titles,
ISBNs or languages are "the same".  Pure functions: no database access.

Priorities (1 high … 3 low; lists and the acquisition job order by priority, then series
and position, so lower positions of a series come first):

* 1 — a series gap at a whole-numbered position that is out (known to a provider, or an
  integer hole between owned books);
* 2 — an author gap: a book of a monitored author in no owned series;
* 3 — a novella at a fractional position (2.5), or a book not yet published (recorded only
  when ``GAPS_SKIP_UNRELEASED`` is false).

A person's change of priority survives later runs: analysis only rewrites a priority that
still equals the default it computed before.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from rapidfuzz import fuzz, process

PRIORITY_SERIES = 1
PRIORITY_AUTHOR = 2
PRIORITY_LOW = 3

# Common names and ISO 639-2 codes of the languages audiobooks come in, mapped to ISO 639-1.
_LANGUAGE_NAMES = {
    "english": "en",
    "eng": "en",
    "german": "de",
    "deutsch": "de",
    "ger": "de",
    "deu": "de",
    "french": "fr",
    "francais": "fr",
    "fre": "fr",
    "fra": "fr",
    "spanish": "es",
    "espanol": "es",
    "spa": "es",
    "italian": "it",
    "ita": "it",
    "dutch": "nl",
    "nld": "nl",
    "dut": "nl",
    "swedish": "sv",
    "swe": "sv",
    "portuguese": "pt",
    "por": "pt",
    "japanese": "ja",
    "jpn": "ja",
}


@dataclass(frozen=True)
class GapPolicy:
    """The gap settings of one run, read once."""

    ignore_fractional: bool
    skip_unreleased: bool
    integer_holes: bool
    languages: frozenset[str]
    recheck_days: int
    title_match: int
    today: date

    @classmethod
    def from_settings(cls) -> GapPolicy:
        return cls(
            ignore_fractional=settings.GAPS_IGNORE_FRACTIONAL,
            skip_unreleased=settings.GAPS_SKIP_UNRELEASED,
            integer_holes=settings.GAPS_INTEGER_HOLES,
            languages=frozenset(language_code(value) for value in settings.GAPS_LANGUAGES),
            recheck_days=settings.GAPS_RECHECK_DAYS,
            title_match=settings.AUTHOR_TITLE_MATCH,
            today=timezone.localdate(),
        )

    def language_ok(self, language: str) -> bool:
        """A book in an unknown language passes; a known one must be among ``GAPS_LANGUAGES``."""
        return not self.languages or not language or language_code(language) in self.languages

    def unreleased(self, published: date | None, year: int | None = None) -> bool:
        """Published after today (by the day when known, else by the year)."""
        if published is not None:
            return published > self.today
        return year is not None and year > self.today.year


def language_code(value: str) -> str:
    """ "English", "eng", "en-US" → "en"; unknown values are kept, lower-cased."""
    folded = _fold(value).strip()
    base = re.split(r"[-_\s]", folded, maxsplit=1)[0] if folded else ""
    return _LANGUAGE_NAMES.get(base, base)


def is_fractional(position: Decimal) -> bool:
    return position != position.to_integral_value()


def series_priority(position: Decimal, unreleased: bool) -> int:
    return PRIORITY_LOW if unreleased or is_fractional(position) else PRIORITY_SERIES


def author_priority(unreleased: bool) -> int:
    return PRIORITY_LOW if unreleased else PRIORITY_AUTHOR


def default_priority(*, reason: str, position: Decimal | None, published: date | None, today: date) -> int:
    """The priority analysis gave a stored gap on ``today`` (see the module docstring)."""
    unreleased = published is not None and published > today
    if reason == "series_gap" and position is not None:
        return series_priority(position, unreleased)
    return author_priority(unreleased)


# --- identifiers ---------------------------------------------------------------------------


def isbn13(value: str) -> str:
    """An ISBN as 13 digits (ISBN-10 converted), or "" when it is not one."""
    text = re.sub(r"[^0-9Xx]", "", value or "").upper()
    if len(text) == 13 and text.isdigit():
        return text
    if len(text) == 10 and text[:9].isdigit():
        core = "978" + text[:9]
        total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(core))
        return core + str((10 - total % 10) % 10)
    return ""


def asin_key(value: str) -> str:
    text = re.sub(r"[^0-9A-Za-z]", "", value or "").upper()
    return text if len(text) == 10 else ""


# --- titles ----------------------------------------------------------------------------------

_EDITION_NOISE = re.compile(
    r"[\(\[]\s*(?:unabridged|abridged|audiobook|audio\s*book|a novel|dramati[sz]ed|full[- ]cast)[^\)\]]*[\)\]]", re.I
)
_TRAILING_GROUP = re.compile(r"\s*[\(\[][^\(\)\[\]]*[\)\]]\s*$")  # "(The Stormlight Archive, #3)"
# ", Book 3", ": Volume 2", " - Part 1", " #3": a series suffix needs punctuation before it, so that
# "Saga Book 3" (a title of its own) keeps its number.
_SERIES_SUFFIX = re.compile(
    r"(?:\s*[,;:\-–—]\s*(?:(?:book|volume|vol\.?|part)\s*|#\s*)|\s+#\s*)\d+(?:\.\d+)?\s*$", re.I
)
_NUMBERS = re.compile(r"\d+")
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _key(text: str) -> str:
    cleaned = _EDITION_NOISE.sub(" ", text or "")
    while True:
        shorter = _TRAILING_GROUP.sub("", cleaned)
        if shorter == cleaned or not shorter.strip():
            break
        cleaned = shorter
    shorter = _SERIES_SUFFIX.sub("", cleaned)
    if shorter.strip():
        cleaned = shorter
    folded = _NOT_WORD.sub(" ", _fold(cleaned.replace("&", " and "))).strip()
    return _LEADING_ARTICLE.sub("", folded) or folded


@dataclass(frozen=True)
class TitleKey:
    """A title normalised for matching: the whole, the main part before a colon, and the part after.

    "Mistborn: The Final Empire" → full "mistborn the final empire", main "mistborn", tail
    "final empire"; a plain title has the same full and main and no tail.
    """

    full: str
    main: str
    tail: str = ""

    @property
    def has_subtitle(self) -> bool:
        return self.full != self.main

    @classmethod
    def of(cls, title: str, subtitle: str = "") -> TitleKey:
        cleaned = _EDITION_NOISE.sub(" ", title or "")
        main, _colon, rest = cleaned.partition(":")
        if not main.strip():
            main, rest = cleaned, ""
        tail = ": ".join(part for part in (rest.strip(), (subtitle or "").strip()) if part)
        main_key = _key(main)
        if not tail:
            return cls(full=main_key, main=main_key)
        full = _key(f"{main}: {tail}")
        tail_key = _key(rest) if rest.strip() else ""
        return cls(full=full, main=main_key, tail=tail_key if len(tail_key) >= MIN_TAIL else "")


# A part after a colon shorter than this ("1", "a") says too little to match on its own.
MIN_TAIL = 4


def title_key(title: str, subtitle: str = "") -> str:
    """The normalised title stored on a gap (``MissingBook.title_key``)."""
    return TitleKey.of(title, subtitle).full[:500]


class TitleIndex:
    """Titles to find again by similarity: "The Way of Kings (Unabridged)" finds "Way of Kings".

    Two titles are the same when their whole normalised forms score at least ``threshold``
    (rapidfuzz ratio), or when one has no subtitle and it matches the other's main part or
    the part after its colon — so "Oathbringer" finds "Oathbringer: Book Three of the
    Stormlight Archive" and "The Final Empire" finds "Mistborn: The Final Empire", while
    "Star Wars: Thrawn" does not find "Star Wars: Ahsoka".
    """

    def __init__(self, threshold: int):
        self.threshold = threshold
        self._values: list = []
        self._exact: dict[str, int] = {}
        self._full: list[str] = []
        # (keys, indexes into ``_values``) for the partial comparisons.
        self._all_main: tuple[list[str], list[int]] = ([], [])
        self._plain_main: tuple[list[str], list[int]] = ([], [])
        self._tails: tuple[list[str], list[int]] = ([], [])

    def __len__(self) -> int:
        return len(self._values)

    def add(self, key: TitleKey, value) -> None:
        index = len(self._values)
        self._values.append(value)
        self._full.append(key.full)
        self._exact.setdefault(key.full, index)
        self._push(self._all_main, key.main, index)
        if not key.has_subtitle:
            self._push(self._plain_main, key.main, index)
        if key.tail:
            self._push(self._tails, key.tail, index)

    @staticmethod
    def _push(pair: tuple[list[str], list[int]], text: str, index: int) -> None:
        pair[0].append(text)
        pair[1].append(index)

    def _best(self, text: str, pair: tuple[list[str], list[int]]):
        if not text or not pair[0]:
            return None
        return self._match(text, pair[0], pair[1])

    def _match(self, text: str, keys: list[str], indexes: list[int] | None = None):
        """The closest title scoring at least ``threshold`` whose numbers are the same ("Book 3" ≠ "Book 4")."""
        numbers = _NUMBERS.findall(text)
        hits = process.extract(text, keys, scorer=fuzz.ratio, score_cutoff=self.threshold, limit=5)
        for _choice, _score, position in hits:
            if _NUMBERS.findall(keys[position]) == numbers:
                return self._values[indexes[position] if indexes is not None else position]
        return None

    def find(self, key: TitleKey):
        """The value added under the same title, or None."""
        if not self._values:
            return None
        index = self._exact.get(key.full)
        if index is not None:
            return self._values[index]
        found = self._match(key.full, self._full)
        if found is not None:
            return found
        if key.has_subtitle:
            # A title with a subtitle matches a plain one on its main part or on its tail.
            for text in (key.main, key.tail):
                found = self._best(text, self._plain_main)
                if found is not None:
                    return found
            return None
        for pair in (self._all_main, self._tails):
            found = self._best(key.main, pair)
            if found is not None:
                return found
        return None


def person_matches(name_key_value: str, names: list[str], threshold: int) -> bool:
    """Whether a provider's author list names the author (``name_key_value``); no names → yes."""
    from library import naming

    if not names:
        return True
    keys = [naming.person_key(name) for name in names if name]
    if name_key_value in keys:
        return True
    return any(fuzz.token_sort_ratio(name_key_value, key) >= threshold for key in keys)
