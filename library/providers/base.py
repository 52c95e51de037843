"""The interface every metadata provider implements, and the records they return.

Providers return plain records, never models; callers merge them (``library.services
.metadata``) or compare positions (``library.services.gaps``).  A provider that cannot
answer raises ``ExternalApiError``; ``library.providers.registry`` turns that into a
fallback to the cache and to the next provider, and records the provider as degraded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass
class BookRecord:
    """One book as a provider knows it; empty strings / None mean "not known"."""

    provider: str
    title: str
    subtitle: str = ""
    authors: list[str] = field(default_factory=list)
    narrators: list[str] = field(default_factory=list)
    series_name: str = ""
    series_position: str = ""  # a label: "3", "2.5", "1-3"
    isbn: str = ""
    asin: str = ""
    publisher: str = ""
    published_year: int | None = None
    published_date: date | None = None
    language: str = ""
    description: str = ""
    duration_seconds: int | None = None
    abridged: bool | None = None
    identifiers: dict[str, str] = field(default_factory=dict)  # provider → its id


@dataclass
class SeriesMember:
    """A book at a position of a series, per a provider."""

    provider: str
    title: str
    position: Decimal | None
    position_label: str
    authors: list[str] = field(default_factory=list)
    isbn: str = ""
    asin: str = ""
    published_date: date | None = None
    language: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)


class MetadataProvider:
    """Base class: subclasses set ``name`` and implement what their service can answer.

    Every method may return an empty result when the service knows nothing; methods a
    service cannot answer at all raise ``NotImplementedError`` (the registry skips them).
    """

    name: str = ""

    def is_configured(self) -> bool:
        return True

    def book_by_isbn(self, isbn: str) -> BookRecord | None:
        raise NotImplementedError

    def book_by_asin(self, asin: str) -> BookRecord | None:
        raise NotImplementedError

    def search_books(self, *, title: str, author: str = "") -> list[BookRecord]:
        raise NotImplementedError

    def series_members(self, *, series_name: str, author: str = "") -> list[SeriesMember]:
        raise NotImplementedError

    def author_books(self, *, author: str) -> list[BookRecord]:
        raise NotImplementedError
