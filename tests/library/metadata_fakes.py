"""A stand-in for the provider registry in metadata tests: canned records, no network.

``install(monkeypatch)`` replaces ``registry.lookup_book`` and returns the fake; tests set
``.records``, ``.degraded``, ``.from_cache`` (or ``.error``) and read ``.calls``.
"""

from __future__ import annotations

from datetime import date

from library.providers import registry
from library.providers.base import BookRecord
from library.services.books import book_create, series_ref


class FakeRegistry:
    def __init__(self):
        self.records: list[BookRecord] = []
        self.degraded: list[str] = []
        self.from_cache: list[str] = []
        self.calls: list[dict] = []
        self.error: Exception | None = None

    def lookup_book(self, **kwargs):
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return registry.Lookup(
            records=list(self.records), degraded=list(self.degraded), from_cache=list(self.from_cache)
        )


def install(monkeypatch) -> FakeRegistry:
    fake = FakeRegistry()
    monkeypatch.setattr(registry, "lookup_book", fake.lookup_book)
    return fake


def record(provider="openlibrary", **overrides) -> BookRecord:
    """The Way of Kings as a provider knows it; ``overrides`` change any field."""
    values = {
        "title": "The Way of Kings",
        "authors": ["Sanderson, Brandon"],
        "narrators": ["Michael Kramer & Kate Reading"],
        "series_name": "The Stormlight Archive",
        "series_position": "1",
        "isbn": "9780765326355",
        "asin": "B003ZWFO7E",
        "publisher": "Tor Books",
        "published_year": 2010,
        "published_date": date(2010, 8, 31),
        "language": "en",
        "description": "Roshar is a world of stone and storms.",
        "duration_seconds": 163_000,
        "abridged": False,
    }
    values.update(overrides)
    return BookRecord(provider=provider, **values)


def sparse_book(**fields):
    """The Way of Kings as a sparse library entry (title and author only, a machine's doing)."""
    values = {"title": "The Way of Kings (Unabridged)", **fields}
    return book_create(fields=values, authors=["Brandon Sanderson"], source="scan")


def series_of(label="1", name="The Stormlight Archive"):
    return [series_ref(name, label)]
