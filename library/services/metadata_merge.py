"""Identity check and field-by-field merge of provider records (SPEC §7.2); no database access.

A record is accepted for a book (or a lookup) only when identity is confident:

- our ISBN is one of the record's (ISBN-10 and ISBN-13 compare equal), or the ASIN is the
  same → confidence 1.0;
- otherwise title and first author are similar: rapidfuzz ``token_set_ratio`` of the
  normalised titles ("(Unabridged)" and series suffixes dropped; the main title before
  ":" and the subtitle tried as well), held back by ``token_sort_ratio`` so that a title
  contained in a longer one ("Dune" in "Dune Messiah") does not pass for it, and
  ``token_set_ratio`` of the author names; the lower of the two must reach the threshold
  (``METADATA_MATCH_THRESHOLD``) → confidence = similarity / 100;
- and, whatever matched, the runtime must be within ``METADATA_RUNTIME_TOLERANCE`` (5 %)
  when both are known: an exact identifier on a different recording is still a different
  recording.

Accepted records are merged in provider order: the first filled value of each field wins
and keeps its provider and confidence (``Proposal``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz, utils

from library import naming
from library.models import CorrectionSource
from library.positions import parse_position
from library.providers.base import BookRecord

MERGE_FIELDS = (
    "title",
    "subtitle",
    "authors",
    "narrators",
    "series",
    "isbn",
    "asin",
    "publisher",
    "published_year",
    "published_date",
    "language",
    "description",
    "duration_seconds",
    "abridged",
)
RELATION_FIELDS = ("authors", "narrators", "series")
# The Book model's limits (and the API's): longer provider values are cut, invalid ones dropped.
LIMITS = {"title": 500, "subtitle": 500, "publisher": 255, "language": 32, "description": 50_000, "name": 255}
MIN_YEAR, MAX_YEAR = 1000, 2100
MAX_INTEGER = 2_147_483_647
# Provider names the registry may use that are spelt differently as a correction source.
SOURCE_ALIASES = {"google": "googlebooks", "google_books": "googlebooks", "open_library": "openlibrary"}

# Parentheses or brackets that say nothing about which book it is: "(Unabridged)",
# "[Dramatized Adaptation]", "(The Stormlight Archive, Book 1)", "(Mistborn #2)".
_NOISE = re.compile(
    r"[\(\[][^\)\]]*\b(?:unabridged|a novel|book\s*\d+|#\s*\d+|vol(?:ume)?\.?\s*\d+|series)\b[^\)\]]*[\)\]]",
    re.IGNORECASE,
)
_TRAILING_UNABRIDGED = re.compile(r"[\s,:–-]+unabridged\s*$", re.IGNORECASE)
_ISBN = re.compile(r"\d{9}[\dX]|\d{13}")
_ASIN = re.compile(r"[A-Z0-9]{10}")


@dataclass(frozen=True)
class Target:
    """What a record is compared with: a book's identity, or a lookup's query."""

    isbn: str = ""
    asin: str = ""
    title: str = ""
    subtitle: str = ""
    author: str = ""
    duration_seconds: int | None = None


@dataclass(frozen=True)
class Candidate:
    """A provider record and the verdict of the identity check."""

    record: BookRecord
    accepted: bool
    confidence: float
    reason: str

    @property
    def source(self) -> str:
        return correction_source(self.record.provider)


@dataclass(frozen=True)
class Proposal:
    """The merged value of one field: what, from which provider, how sure."""

    field: str
    value: object
    candidate: Candidate

    @property
    def source(self) -> str:
        return self.candidate.source

    @property
    def confidence(self) -> float:
        return self.candidate.confidence


def correction_source(provider: str) -> str:
    """The MetadataCorrection ``source`` for a provider name."""
    name = (provider or "").strip().lower()
    return SOURCE_ALIASES.get(name, name) if name not in CorrectionSource.values else name


# --- identity ---------------------------------------------------------------------------------


def isbn_normalise(value: str) -> str:
    """ISBN-13 digits for an ISBN-10 or ISBN-13 (hyphens and spaces ignored); "" when invalid."""
    digits = re.sub(r"[\s-]", "", value or "").upper()
    if not _ISBN.fullmatch(digits):
        return ""
    if len(digits) == 13:
        return digits
    core = "978" + digits[:9]
    check = (10 - sum(int(ch) * (1 if index % 2 == 0 else 3) for index, ch in enumerate(core)) % 10) % 10
    return core + str(check)


def asin_normalise(value: str) -> str:
    asin = (value or "").strip().upper()
    return asin if _ASIN.fullmatch(asin) else ""


def title_normalise(value: str) -> str:
    """Lower-case words of a title without "(Unabridged)", series suffixes and punctuation."""
    text = _NOISE.sub(" ", value or "")
    text = _TRAILING_UNABRIDGED.sub("", text.strip())
    return utils.default_process(text)


def _title_variants(title: str, subtitle: str = "") -> set[str]:
    """The full title, the main title before ":", the part after it, and title + subtitle."""
    variants = {title}
    if ":" in title:
        main, _, rest = title.partition(":")
        variants |= {main, rest}
    if subtitle:
        variants.add(f"{title} {subtitle}")
    return {normalised for normalised in map(title_normalise, variants) if normalised}


def title_similarity(a: str, b: str, *, a_subtitle: str = "", b_subtitle: str = "") -> float:
    """0–100: the best pair of title variants, scored as the module docstring says."""
    best = 0.0
    for left in _title_variants(a, a_subtitle):
        for right in _title_variants(b, b_subtitle):
            score = min(fuzz.token_set_ratio(left, right), fuzz.token_sort_ratio(left, right))
            best = max(best, score)
    return best


def author_similarity(author: str, names: list[str]) -> float:
    """0–100: ``author`` against the closest of ``names`` ("Last, First" accepted on both sides)."""
    key = naming.person_key(author)
    if not key:
        return 0.0
    return max((fuzz.token_set_ratio(key, naming.person_key(name)) for name in names if name), default=0.0)


def _runtime_differs(target: Target, record: BookRecord, tolerance: float) -> bool:
    ours, theirs = target.duration_seconds, record.duration_seconds
    if not ours or not theirs:
        return False
    return abs(ours - theirs) > tolerance * max(ours, theirs)


def candidate_identify(record: BookRecord, target: Target, *, threshold: float, tolerance: float) -> Candidate:
    """Whether ``record`` is the book ``target`` describes, how sure, and why."""
    if _runtime_differs(target, record, tolerance):
        reason = (
            f"runtime {record.duration_seconds}s differs from {target.duration_seconds}s by more than {tolerance:.0%}"
        )
        return Candidate(record, False, 0.0, reason)
    ours_isbn = isbn_normalise(target.isbn)
    if ours_isbn and ours_isbn in {isbn_normalise(isbn) for isbn in [record.isbn, *record.isbns]}:
        return Candidate(record, True, 1.0, "ISBN match")
    ours_asin = asin_normalise(target.asin)
    if ours_asin and ours_asin == asin_normalise(record.asin):
        return Candidate(record, True, 1.0, "ASIN match")
    if not (target.title and record.title):
        return Candidate(record, False, 0.0, "no identifier in common and no title to compare")
    if not (target.author and record.authors):
        return Candidate(record, False, 0.0, "no identifier in common and no author to compare")
    title = title_similarity(target.title, record.title, a_subtitle=target.subtitle, b_subtitle=record.subtitle)
    author = author_similarity(target.author, record.authors)
    similarity = min(title, author)
    text = f"title {title:.0f}, author {author:.0f}"
    if similarity < threshold:
        return Candidate(record, False, round(similarity / 100, 4), f"{text}: below {threshold:g}")
    return Candidate(record, True, round(similarity / 100, 4), text)


def candidates_identify(records: list[BookRecord], target: Target, *, threshold: float, tolerance: float):
    """``candidate_identify`` for each record, in the providers' order."""
    return [candidate_identify(record, target, threshold=threshold, tolerance=tolerance) for record in records]


# --- merge ------------------------------------------------------------------------------------


def _text(value, limit: int) -> str:
    return naming.clean(value or "")[:limit]


def _people(names, split: bool = False) -> list[str]:
    """Display names, "Last, First" turned round, duplicates dropped (narrator strings split)."""
    result: list[str] = []
    keys: set[str] = set()
    for raw in names or []:
        for name in naming.split_narrators(raw) if split else [naming.person_name(raw or "")]:
            name = name[: LIMITS["name"]]
            key = naming.name_key(name)
            if name and key not in keys:
                keys.add(key)
                result.append(name)
    return result


def _series(record: BookRecord) -> dict | None:
    name = _text(record.series_name, LIMITS["name"])
    if not name:
        return None
    try:
        label = parse_position(record.series_position or None).label
    except ValueError:
        label = ""
    return {"series": name, "position": label or None}


def _year(record: BookRecord) -> int | None:
    """The publication year, or the year of the publication date when the year is not usable."""
    for year in (record.published_year, getattr(record.published_date, "year", None)):
        if isinstance(year, int) and MIN_YEAR <= year <= MAX_YEAR:
            return year
    return None


def record_values(record: BookRecord) -> dict:
    """The record's usable values per merge field (cleaned; empty and invalid ones left out)."""
    isbn = re.sub(r"[\s-]", "", record.isbn or "").upper()
    duration = record.duration_seconds
    values = {
        "title": _text(record.title, LIMITS["title"]),
        "subtitle": _text(record.subtitle, LIMITS["subtitle"]),
        "authors": _people(record.authors),
        "narrators": _people(record.narrators, split=True),
        "series": _series(record),
        "isbn": isbn if _ISBN.fullmatch(isbn) else "",
        "asin": asin_normalise(record.asin),
        "publisher": _text(record.publisher, LIMITS["publisher"]),
        "published_year": _year(record),
        "published_date": record.published_date if isinstance(record.published_date, date) else None,
        "language": _text(record.language, LIMITS["language"]),
        "description": (record.description or "").strip()[: LIMITS["description"]],
        "duration_seconds": duration if isinstance(duration, int) and 0 < duration <= MAX_INTEGER else None,
        "abridged": record.abridged if isinstance(record.abridged, bool) else None,
    }
    return {name: value for name, value in values.items() if value not in (None, "", [])}


def candidates_merge(candidates: list[Candidate]) -> dict[str, Proposal]:
    """Accepted candidates merged field by field: the first provider with a value wins."""
    merged: dict[str, Proposal] = {}
    for candidate in candidates:
        if not candidate.accepted:
            continue
        for name, value in record_values(candidate.record).items():
            merged.setdefault(name, Proposal(field=name, value=value, candidate=candidate))
    return {name: merged[name] for name in MERGE_FIELDS if name in merged}
