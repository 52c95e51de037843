"""Schedules as text: a cron expression ("0 3 * * *") or an interval ("2m", "6h", "1d")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter

_INTERVAL = re.compile(r"^\s*(?:every\s+)?(\d{1,5})\s*(m|min|mins|minutes?|h|hours?|d|days?)\s*$", re.I)
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440}
MAX_MINUTES = 32767  # django-q2 keeps minutes in a PositiveSmallIntegerField


@dataclass(frozen=True)
class Timing:
    """A parsed schedule: either ``cron`` or ``minutes`` is set."""

    text: str
    cron: str | None = None
    minutes: int | None = None

    def next_runs(self, start: datetime, until: datetime) -> list[datetime]:
        """The run times after ``start`` up to ``until`` (at most 500)."""
        times: list[datetime] = []
        if self.cron:
            iterator = croniter(self.cron, start)
            while len(times) < 500:
                moment = iterator.get_next(datetime)
                if moment > until:
                    break
                times.append(moment)
            return times
        moment = start + timedelta(minutes=self.minutes)
        while moment <= until and len(times) < 500:
            times.append(moment)
            moment += timedelta(minutes=self.minutes)
        return times


def parse_timing(text: str) -> Timing:
    """Parse a schedule; raise ``ValueError`` with a readable message when it is neither form."""
    value = (text or "").strip()
    match = _INTERVAL.match(value)
    if match:
        minutes = int(match.group(1)) * _UNIT_MINUTES[match.group(2)[0].lower()]
        if not 1 <= minutes <= MAX_MINUTES:
            raise ValueError(f"Interval {value!r} must be between 1 minute and {MAX_MINUTES} minutes.")
        return Timing(text=value, minutes=minutes)
    if len(value.split()) == 5 and croniter.is_valid(value):
        return Timing(text=value, cron=value)
    raise ValueError(f"{value!r} is neither a cron expression (0 3 * * *) nor an interval (15m, 6h, 1d).")
