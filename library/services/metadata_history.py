"""The history side of book writes: MetadataCorrection rows for what ``book_update`` changed.

``library.services.books`` calls ``corrections_write`` when a write carries a ``History``
(a person's edit, an automatic correction, a revert).  Values are stored JSON-safe so a
revert can restore them exactly:

- scalar fields as they are, dates as ISO strings;
- ``authors`` as the ordered list of names, ``narrators`` as the list of names (by name);
- ``series`` as ``[{"series": name, "position": label or null}]`` (by series name).

Nothing here imports the book services, so they can import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from library.models import Book, MetadataCorrection

if TYPE_CHECKING:
    from scheduler.models import JobRun

RELATIONS = ("authors", "narrators", "series")
# The ``metadata_sources`` key of a book's last provider check (not a field).
CHECKED = "_checked"
REASON_LIMIT = 255


@dataclass(frozen=True)
class History:
    """Who or what made a change, and why: copied onto each MetadataCorrection it writes."""

    user: Any = None
    job_run: JobRun | None = None
    confidence: float = 1.0
    reason: str = ""
    reverts: MetadataCorrection | None = None


def stamp(source: str, *, confidence: float | None = None) -> dict:
    """A ``metadata_sources`` entry: where a field's value came from, when (and how sure)."""
    entry: dict = {"source": source, "at": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")}
    if confidence is not None:
        entry["confidence"] = round(float(confidence), 4)
    return entry


def json_value(value):
    """``value`` as stored in ``old_value``/``new_value``."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def is_filled(value) -> bool:
    return value not in (None, "", [], {}, False)


def relation_values(book: Book, names) -> dict:
    """The current JSON-safe values of the relations ``names`` of a saved ``book`` (a query each)."""
    values = {}
    if "authors" in names:
        values["authors"] = list(book.book_authors.order_by("position", "id").values_list("author__name", flat=True))
    if "narrators" in names:
        values["narrators"] = list(book.narrators.order_by("name", "id").values_list("name", flat=True))
    if "series" in names:
        values["series"] = [
            {"series": name, "position": label or None}
            for name, label in book.series_entries.order_by("series__name", "id").values_list(
                "series__name", "position_label"
            )
        ]
    return values


def corrections_write(
    *, book: Book, before: dict, after: dict, source: str, history: History
) -> list[MetadataCorrection]:
    """One MetadataCorrection per field whose JSON value differs between ``before`` and ``after``.

    A field missing from ``before`` was empty (a new book): it is recorded only when filled.
    """
    rows = []
    for name, new in after.items():
        new_json = json_value(new)
        if name not in before:
            if not is_filled(new_json):
                continue
            old_json = None
        else:
            old_json = json_value(before[name])
            if old_json == new_json or (not is_filled(old_json) and not is_filled(new_json)):
                continue
        rows.append(
            MetadataCorrection(
                book=book,
                field=name,
                old_value=old_json,
                new_value=new_json,
                source=source,
                reason=history.reason[:REASON_LIMIT],
                confidence=history.confidence,
                created_by=history.user if getattr(history.user, "is_authenticated", False) else None,
                job_run=history.job_run,
                reverts=history.reverts,
            )
        )
    return MetadataCorrection.objects.bulk_create(rows)


def book_snapshot(book: Book) -> dict:
    """Every tracked value of a saved ``book`` (scalar fields and relations), JSON-safe."""
    from library.services.books import SCALAR_FIELDS

    return {name: json_value(getattr(book, name)) for name in SCALAR_FIELDS} | relation_values(book, RELATIONS)


def book_record_edit(*, book: Book, before: dict, user, reason: str = "admin edit") -> list[MetadataCorrection]:
    """Record a person's edit made outside the services (the Django admin): corrections + sources."""
    after = book_snapshot(book)
    rows = corrections_write(
        book=book, before=before, after=after, source="manual", history=History(user=user, reason=reason)
    )
    if rows:
        sources = dict(book.metadata_sources)
        for row in rows:
            sources[row.field] = stamp("manual", confidence=1.0)
        Book.objects.filter(pk=book.pk).update(metadata_sources=sources)
        book.metadata_sources = sources
    return rows
