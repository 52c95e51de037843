"""Totals of 64-bit columns that cannot overflow the database's integer type."""

from __future__ import annotations

from django.db.models import FloatField, Sum
from django.db.models.functions import Cast


def wide_sum(field: str, **kwargs) -> Sum:
    """``Sum`` of a big-integer column, computed in floating point.

    SQLite's integer SUM raises "integer overflow" once the total passes 2**63 (two books
    imported with absurd sizes were enough to turn the stats into a 500). Doubles are exact
    up to 2**53 — 8 PiB — and callers round the total back to an ``int``.
    """
    return Sum(Cast(field, FloatField()), **kwargs)


def as_int(total) -> int:
    """A ``wide_sum`` result as the integer the API reports (0 for no rows)."""
    return int(total or 0)
