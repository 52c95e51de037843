"""Series positions: labels such as "2", "2.5" or the omnibus range "3-4"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_NUMBER = r"\d{1,4}(?:\.\d{1,3})?"
_LABEL = re.compile(rf"^\s*(?:#|book\s+|vol\.?\s*|volume\s+)?({_NUMBER})\s*(?:(?:-|–|to)\s*({_NUMBER}))?\s*$", re.I)


@dataclass(frozen=True)
class Position:
    """A parsed position: ``start`` (the sort key), ``end`` for ranges, and the label."""

    start: Decimal | None
    end: Decimal | None
    label: str

    def covered_integers(self) -> set[int]:
        """The whole-numbered positions this entry owns (an omnibus 1-3 owns 1, 2 and 3)."""
        if self.start is None:
            return set()
        if self.end is None:
            return {int(self.start)} if self.start == self.start.to_integral_value() else set()
        low = int(self.start.to_integral_value(rounding="ROUND_CEILING"))
        return set(range(low, int(self.end) + 1))


def parse_position(label: str | int | float | Decimal | None) -> Position:
    """Parse a label; raise ``ValueError`` for text that is not a number or a range."""
    if label is None or (isinstance(label, str) and not label.strip()):
        return Position(None, None, "")
    if isinstance(label, (int, Decimal, float)) and not isinstance(label, bool):
        text = format(Decimal(str(label)).normalize(), "f")
    else:
        text = str(label).strip()
    match = _LABEL.match(text)
    if not match:
        raise ValueError(f"Position {text!r} is not a number (2, 2.5) or a range (3-4).")
    try:
        start = Decimal(match.group(1))
        end = Decimal(match.group(2)) if match.group(2) else None
    except InvalidOperation as exc:  # pragma: no cover - the regex only admits numbers
        raise ValueError(f"Position {text!r} is not a number.") from exc
    if end is not None and end <= start:
        raise ValueError(f"Range {text!r} must go upwards (3-4).")
    label_text = f"{_plain(start)}-{_plain(end)}" if end is not None else _plain(start)
    return Position(start, end, label_text)


@lru_cache(maxsize=4096)
def _plain(value: Decimal) -> str:
    """``2.5``, ``3``: few distinct positions recur on every page, so their text is kept."""
    return format(value.normalize(), "f")


def format_position(value: Decimal | None) -> str | None:
    """Decimal string for the API ("2.5", "3"), or None."""
    return None if value is None else _plain(value)
