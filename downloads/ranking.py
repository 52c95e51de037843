"""Candidate ranking (SPEC §8.2): score MAM search rows for one wanted book.

Points (0-100 after clamping): title similarity up to 50, author match 25 (a different
author costs 25), series name 10 and position 5 (the right series at another position
costs 20), narrator ±5 when one is asked for, a foreign language −30, "abridged" −15,
preferred format 5/3/1.  Rejected (``rejected`` says why, sorted last): fewer seeders than
``MAM_MIN_SEEDERS``, a bundle for a single book, a score below ``MATCH_THRESHOLD``.  The
account guard (§8.4) sets ``cost``, ``allowed`` and ``hold_reason``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from django.conf import settings
from rapidfuzz import fuzz

from downloads.guard import AccountState, guard_check_torrent
from downloads.integrations.mam import MamTorrent
from library.naming import name_key, person_key
from library.positions import parse_position

BUNDLE_WORDS = re.compile(
    r"\b(omnibus|collection|box(?:ed)?\s*set|complete series|books?\s+\d+\s*(?:-|–|to)\s*\d+)\b", re.I
)
BUNDLE_MIN_FILES = 150  # more files than this is treated as several books
ABRIDGED = re.compile(r"(?<!un)abridged", re.I)
_PUNCTUATION = re.compile(r"[^\w\s]")
_LANGUAGES = {"en": "eng", "english": "eng", "de": "ger", "deu": "ger", "german": "ger", "fr": "fre", "fra": "fre"}
_LANGUAGES |= {"french": "fre", "es": "spa", "spanish": "spa", "it": "ita", "italian": "ita", "nl": "dut", "nld": "dut"}


@dataclass(frozen=True)
class Wanted:
    """The book looked for (from a MissingBook or a manual search)."""

    title: str
    authors: list[str] = field(default_factory=list)
    series: str = ""
    position: str = ""
    narrator: str = ""
    language: str = ""
    is_omnibus: bool = False


@dataclass
class Candidate:
    """A scored MAM torrent (SPEC §4.1); ``as_dict()`` is what ``best_candidate`` stores."""

    mam_torrent_id: int
    title: str
    authors: list[str]
    narrators: list[str]
    series: list[dict]
    position: str
    format: str
    size_bytes: int
    seeders: int
    language: str
    is_free: bool
    is_vip: bool
    is_bundle: bool
    score: int
    reasons: dict[str, int]
    cost: str
    allowed: bool
    hold_reason: str
    dl: str = ""
    rejected: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _text_key(value: str) -> str:
    return name_key(_PUNCTUATION.sub(" ", value or ""))


def _language(value: str) -> str:
    key = (value or "").strip().lower()
    return _LANGUAGES.get(key, key)


def _same_position(left: str, right: str) -> bool:
    try:
        return parse_position(left).label == parse_position(right).label
    except ValueError:
        return name_key(left) == name_key(right)


def is_bundle(torrent: MamTorrent) -> bool:
    return bool(BUNDLE_WORDS.search(torrent.title)) or torrent.numfiles > BUNDLE_MIN_FILES


def _format(torrent: MamTorrent) -> str:
    kinds = torrent.filetype.replace(",", " ").split()
    for preferred in settings.PREFERRED_FORMATS:
        if preferred in kinds:
            return preferred
    return kinds[0] if kinds else ""


def _score(wanted: Wanted, torrent: MamTorrent) -> tuple[dict[str, int], str]:
    """Points per factor and the series position found."""
    reasons: dict[str, int] = {}
    reasons["title"] = round(fuzz.token_sort_ratio(_text_key(wanted.title), _text_key(torrent.title)) / 2)
    if wanted.authors and torrent.authors:
        wanted_keys = {person_key(name) for name in wanted.authors}
        matched = any(fuzz.ratio(person_key(name), key) >= 90 for name in torrent.authors for key in wanted_keys if key)
        reasons["author"] = 25 if matched else -25
    position = ""
    if wanted.series:
        series_key = name_key(wanted.series)
        same = [(name, label) for name, label in torrent.series if fuzz.ratio(name_key(name), series_key) >= 90]
        if same:
            position = same[0][1]
            reasons["series"] = 10
            if wanted.position:
                at = any(_same_position(label, wanted.position) for _name, label in same)
                reasons["position"] = 5 if at else -20
    if not position and torrent.series:
        position = torrent.series[0][1]
    if wanted.narrator:
        narrators = {person_key(name) for name in torrent.narrators}
        reasons["narrator"] = 5 if person_key(wanted.narrator) in narrators else -5
    if wanted.language and torrent.lang_code and _language(wanted.language) != _language(torrent.lang_code):
        reasons["language"] = -30
    if ABRIDGED.search(torrent.title):
        reasons["abridged"] = -15
    fmt = _format(torrent)
    if fmt in settings.PREFERRED_FORMATS:
        reasons["format"] = max(1, 5 - 2 * settings.PREFERRED_FORMATS.index(fmt))
    return reasons, position


def match_threshold(wanted: Wanted) -> int:
    """``MATCH_THRESHOLD``, less the 25 author points a search that names no author cannot earn."""
    return settings.MATCH_THRESHOLD - (0 if wanted.authors else 25)


def _candidate(wanted: Wanted, torrent: MamTorrent, account: AccountState) -> Candidate:
    reasons, position = _score(wanted, torrent)
    score = max(0, min(100, sum(reasons.values())))
    bundle = is_bundle(torrent)
    rejected = ""
    if torrent.seeders < settings.MAM_MIN_SEEDERS:
        rejected = f"{torrent.seeders} seeder(s), below {settings.MAM_MIN_SEEDERS}"
    elif bundle and not wanted.is_omnibus:
        rejected = "a bundle (omnibus, collection or many files) for a single book"
    elif score < (threshold := match_threshold(wanted)):
        rejected = f"score {score} below {threshold}"
    decision = guard_check_torrent(account=account, torrent=torrent)
    return Candidate(
        mam_torrent_id=torrent.id,
        title=torrent.title,
        authors=list(torrent.authors),
        narrators=list(torrent.narrators),
        series=[{"name": name, "position": label} for name, label in torrent.series],
        position=position,
        format=_format(torrent),
        size_bytes=torrent.size_bytes,
        seeders=torrent.seeders,
        language=torrent.lang_code,
        is_free=decision.cost == "free",
        is_vip=torrent.vip or torrent.fl_vip,
        is_bundle=bundle,
        score=score,
        reasons=reasons,
        cost=decision.cost,
        allowed=decision.allowed and not rejected,
        hold_reason=rejected or decision.hold_reason,
        dl=torrent.dl,
        rejected=rejected,
    )


def rank_candidates(
    *, wanted: Wanted, torrents: list[MamTorrent], account: AccountState, include_rejected: bool = False
) -> list[Candidate]:
    """Candidates best first; rejected ones only with ``include_rejected`` (and then last).

    Ties: higher score, allowed now, free, more seeders, smaller, lower torrent id.
    """
    candidates = [_candidate(wanted, torrent, account) for torrent in torrents]
    if not include_rejected:
        candidates = [candidate for candidate in candidates if not candidate.rejected]
    return sorted(
        candidates,
        key=lambda c: (
            bool(c.rejected),
            -c.score,
            not c.allowed,
            not c.is_free,
            -c.seeders,
            c.size_bytes,
            c.mam_torrent_id,
        ),
    )
