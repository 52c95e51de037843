"""Ask the enabled metadata providers, with the cache and the circuit breaker in between (SPEC §7.1).

For each provider in ``METADATA_PROVIDERS`` order: a fresh ``ProviderCache`` row answers
without the network; otherwise the service is asked and its raw JSON stored (a "not
found" is stored as an empty answer).  When the service fails — after the client's
retries — the stale row answers if there is one, and the provider is reported as
degraded; either way the next provider is asked.  A provider whose circuit is open is
not called (degraded, stale cache still used); one that is not configured is skipped
silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Generic, TypeVar

import httpx
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from library.models import ProviderCache, ProviderState
from library.naming import person_name
from library.providers.audnexus import AudnexusProvider
from library.providers.base import BookRecord, MetadataProvider, NotFoundAnswer, SeriesMember
from library.providers.circuit import circuit_allows, circuit_failure, circuit_state, circuit_success
from library.providers.googlebooks import GoogleBooksProvider
from library.providers.hardcover import HardcoverProvider
from library.providers.openlibrary import OpenLibraryProvider
from library.providers.parsing import isbn_digits, request_key
from mamcrawler.api.exceptions import ExternalApiError

logger = logging.getLogger("mamcrawler.library")

T = TypeVar("T")

PROVIDERS: dict[str, type[MetadataProvider]] = {
    provider.name: provider
    for provider in (AudnexusProvider, HardcoverProvider, OpenLibraryProvider, GoogleBooksProvider)
}
# What a payload that parses badly looks like: the service changed its shape or sent garbage.
_SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError)


@dataclass
class Lookup(Generic[T]):
    """Records from every provider that answered, and which providers were degraded or cached."""

    records: list[T] = field(default_factory=list)
    degraded: list[str] = field(default_factory=list)  # failed this call (stale cache, nothing, or circuit open)
    from_cache: list[str] = field(default_factory=list)  # answered from ProviderCache
    errors: dict[str, str] = field(default_factory=dict)  # provider → why it was degraded


def _mark(names: list[str], provider: str) -> None:
    if provider not in names:
        names.append(provider)


@dataclass(frozen=True)
class _Question:
    operation: str
    key: str
    params: dict


# --- the API ---------------------------------------------------------------------------------


def lookup_book(
    *, isbn: str = "", asin: str = "", title: str = "", author: str = "", providers: list[str] | None = None
) -> Lookup[BookRecord]:
    """One book by ASIN and/or ISBN; a provider that finds nothing by them is asked by title and author.

    Side effects: network requests, ProviderCache rows written, ProviderState counters.
    """
    isbn = isbn_digits(isbn)
    asin = (asin or "").strip().upper()
    author = person_name(author)
    questions = []
    if asin:
        questions.append(_Question("asin", f"asin:{asin}", {"asin": asin}))
    if isbn:
        questions.append(_Question("isbn", f"isbn:{isbn}", {"isbn": isbn}))
    search = None
    if (title or "").strip():
        search = _Question("search", request_key("search", title, author), {"title": title.strip(), "author": author})
    return _ask(questions, search, providers)


def lookup_series(*, series_name: str, author: str = "", providers: list[str] | None = None) -> Lookup[SeriesMember]:
    """The members of a series (by position) as each provider knows them.

    Side effects: network requests, ProviderCache rows written, ProviderState counters.
    """
    if not (series_name or "").strip():
        return Lookup()
    author = person_name(author)
    params = {"series_name": series_name.strip(), "author": author}
    return _ask([_Question("series", request_key("series", series_name, author), params)], None, providers)


def lookup_author_books(*, author: str, providers: list[str] | None = None) -> Lookup[BookRecord]:
    """The books each provider lists for an author.

    Side effects: network requests, ProviderCache rows written, ProviderState counters.
    """
    author = person_name(author)
    if not author:
        return Lookup()
    question = _Question("author_books", request_key("author", author), {"author": author})
    return _ask([question], None, providers)


def providers_status() -> list[dict]:
    """Every known provider, enabled ones first in their order: configuration, health, circuit, cache size."""
    enabled = enabled_provider_names()
    names = enabled + [name for name in PROVIDERS if name not in enabled]
    states = {state.provider: state for state in ProviderState.objects.filter(provider__in=names)}
    cached = dict(
        ProviderCache.objects.filter(provider__in=names)
        .values("provider")
        .annotate(entries=Count("id"))
        .values_list("provider", "entries")
        .order_by()
    )
    now = timezone.now()
    rows = []
    for name in names:
        provider = PROVIDERS[name]()
        state = states.get(name)
        requests = state.requests if state else 0
        failures = state.failures if state else 0
        circuit = circuit_state(state, now=now)
        rows.append(
            {
                "name": name,
                "enabled": name in enabled,
                "configured": provider.is_configured(),
                "base_url": provider.public_url(),
                "last_success_at": state.last_success_at if state else None,
                "last_failure_at": state.last_failure_at if state else None,
                "last_error": state.last_error if state else "",
                "requests": requests,
                "failures": failures,
                "error_rate": round(failures / requests, 4) if requests else 0.0,
                "cache_entries": cached.get(name, 0),
                "circuit": circuit,
                "opened_until": state.opened_until if state and circuit != "closed" else None,
            }
        )
    return rows


def provider_cache_cleanup(*, older_than_days: int | None = None) -> int:
    """Delete expired ProviderCache rows, or (``older_than_days``) rows fetched longer ago; the count.

    Only the cache: metadata history (MetadataCorrection) is kept forever.
    """
    now = timezone.now()
    if older_than_days is None:
        rows = ProviderCache.objects.filter(expires_at__lte=now)
    else:
        if older_than_days < 0:
            raise ValueError("older_than_days must not be negative.")
        rows = ProviderCache.objects.filter(fetched_at__lt=now - timedelta(days=older_than_days))
    return rows.delete()[0]


def enabled_provider_names(providers: list[str] | None = None) -> list[str]:
    """``METADATA_PROVIDERS`` in order, known names only, narrowed to ``providers`` when given."""
    names = [name.strip().lower() for name in settings.METADATA_PROVIDERS]
    names = list(dict.fromkeys(name for name in names if name in PROVIDERS))
    if providers is not None:
        wanted = {name.strip().lower() for name in providers}
        names = [name for name in names if name in wanted]
    return names


# --- asking -----------------------------------------------------------------------------------


def _ask(questions: list[_Question], fallback: _Question | None, providers: list[str] | None) -> Lookup:
    lookup: Lookup = Lookup()
    for name in enabled_provider_names(providers):
        provider = PROVIDERS[name]()
        if not provider.is_configured():
            continue
        with provider:
            session = _Session(provider, lookup)
            records = []
            for question in questions:
                if provider.supports(question.operation):
                    records += session.answer(question)
            if fallback is not None and not records and provider.supports(fallback.operation):
                records += session.answer(fallback)
        lookup.records.extend(records)
    return lookup


class _Session:
    """One provider within one lookup: after its first failure it answers from the cache only."""

    def __init__(self, provider: MetadataProvider, lookup: Lookup):
        self.provider = provider
        self.name = provider.name
        self.lookup = lookup
        self.failed = False
        self._allowed: bool | None = None

    def answer(self, question: _Question) -> list:
        row = ProviderCache.objects.filter(provider=self.name, key=question.key).first()
        if row is not None and row.expires_at > timezone.now():
            records = self._parse_row(row, question)
            if records is not None:
                _mark(self.lookup.from_cache, self.name)
                return records
        if self.failed:
            return self._stale(row, question)
        if not self._may_call():
            self._degrade(f"{self.provider.service} skipped: circuit open after repeated failures.")
            return self._stale(row, question)
        try:
            try:
                payload, status = self.provider.fetch(question.operation, **question.params), 200
            except NotFoundAnswer:
                payload, status = None, 404
            records = self.provider.parse(question.operation, payload, **question.params)
        except ExternalApiError as exc:
            return self._fail(str(exc.detail), row, question)
        except httpx.HTTPError as exc:
            return self._fail(f"{self.provider.service} failed ({type(exc).__name__}).", row, question)
        except _SHAPE_ERRORS as exc:
            text = f"{self.provider.service} answered in an unexpected shape ({type(exc).__name__}: {exc})."
            return self._fail(text[:500], row, question)
        self._store(question, payload, status)
        circuit_success(self.name)
        return records

    def _may_call(self) -> bool:
        if self._allowed is None:
            self._allowed = circuit_allows(self.name)
        return self._allowed

    def _fail(self, error: str, row: ProviderCache | None, question: _Question) -> list:
        logger.warning("Metadata provider %s failed on %s: %s", self.name, question.key, error)
        self.failed = True
        circuit_failure(self.name, error)
        self._degrade(error)
        return self._stale(row, question)

    def _degrade(self, error: str) -> None:
        _mark(self.lookup.degraded, self.name)
        self.lookup.errors.setdefault(self.name, error)

    def _stale(self, row: ProviderCache | None, question: _Question) -> list:
        """What the cache still knows (expired or not); the provider counts as degraded."""
        self._degrade(f"{self.provider.service} unavailable.")
        records = self._parse_row(row, question) if row is not None else None
        if records is None:
            return []
        _mark(self.lookup.from_cache, self.name)
        return records

    def _parse_row(self, row: ProviderCache, question: _Question) -> list | None:
        payload = None if row.status == 404 else row.payload
        try:
            return self.provider.parse(question.operation, payload, **question.params)
        except _SHAPE_ERRORS:
            logger.warning("Metadata provider %s: cached answer %s no longer parses.", self.name, question.key)
            return None

    def _store(self, question: _Question, payload, status: int) -> None:
        now = timezone.now()
        ProviderCache.objects.update_or_create(
            provider=self.name,
            key=question.key,
            defaults={
                "payload": payload,
                "status": status,
                "fetched_at": now,
                "expires_at": now + timedelta(days=settings.PROVIDER_CACHE_DAYS),
            },
        )
