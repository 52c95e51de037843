"""In-memory answers for ``library.providers.registry`` in gap analysis tests.

``FakeRegistry`` answers ``lookup_series`` and ``lookup_author_books`` from dictionaries
keyed by series or author name, as the registry's ``Lookup``, records every call,
and can play a provider outage (``down``: no records, the providers listed as degraded).
``install(monkeypatch)`` puts it in place of the real registry's two functions.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from library import naming
from library.providers import registry
from library.providers.base import BookRecord, SeriesMember


class FakeRegistry:
    def __init__(self):
        self.series: dict[str, list[SeriesMember]] = {}
        self.author_books: dict[str, list[BookRecord]] = {}
        self.down: list[str] = []
        self.calls: list[tuple] = []

    def add_series(self, name: str, members: list[SeriesMember]) -> None:
        self.series[naming.name_key(name)] = members

    def add_author(self, name: str, books: list[BookRecord]) -> None:
        self.author_books[naming.person_key(name)] = books

    def lookup_series(self, *, series_name: str, author: str = "", providers=None) -> registry.Lookup:
        self.calls.append(("series", series_name, author))
        if self.down:
            return registry.Lookup(records=[], degraded=list(self.down))
        return registry.Lookup(records=list(self.series.get(naming.name_key(series_name), [])))

    def lookup_author_books(self, *, author: str, providers=None) -> registry.Lookup:
        self.calls.append(("author", author))
        if self.down:
            return registry.Lookup(records=[], degraded=list(self.down))
        return registry.Lookup(records=list(self.author_books.get(naming.person_key(author), [])))


def member(position, title=None, *, provider="hardcover", published=None, language="", **fields) -> SeriesMember:
    """A series member at ``position`` ("3", "2.5" or "1-3")."""
    label = str(position)
    start = None if "-" in label else Decimal(label)
    return SeriesMember(
        provider=provider,
        title=title or f"Book {label}",
        position=start,
        position_label=label,
        published_date=published,
        language=language,
        **fields,
    )


def record(title, *, authors=("Brandon Sanderson",), provider="openlibrary", **fields) -> BookRecord:
    return BookRecord(provider=provider, title=title, authors=list(authors), **fields)


FUTURE = date(2999, 1, 1)
PAST = date(2001, 1, 1)


def install(monkeypatch) -> FakeRegistry:
    """Point ``library.providers.registry``'s lookups at a new ``FakeRegistry`` and return it."""
    fake = FakeRegistry()
    monkeypatch.setattr(registry, "lookup_series", fake.lookup_series)
    monkeypatch.setattr(registry, "lookup_author_books", fake.lookup_author_books)
    return fake
