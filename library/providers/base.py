"""The interface every metadata provider implements, and the records they return.

Providers return plain records, never models; callers merge them (``library.services
.metadata``) or compare positions (``library.services.gaps``).  A provider that cannot
answer raises ``ExternalApiError``; ``library.providers.registry`` turns that into a
fallback to the cache and to the next provider, and records the provider as degraded.

Each question a provider can answer is an *operation* split in two halves so the registry
can cache what the service said: ``fetch_<operation>(**params)`` asks the service and
returns its raw JSON payload (what ``ProviderCache`` keeps), ``parse_<operation>(payload,
**params)`` turns a payload into records.  The operations are ``isbn``, ``asin``,
``search``, ``series`` and ``author_books``; a provider without ``fetch_<operation>``
cannot answer it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from library.integrations.base import HttpClient
from mamcrawler.api.exceptions import ExternalApiError

OPERATIONS = ("isbn", "asin", "search", "series", "author_books")


@dataclass
class BookRecord:
    """One book as a provider knows it; empty strings / None mean "not known".

    ``published_date`` is set only when the day is known; ``published_year`` whenever the
    year is.  ``language`` is an ISO 639-1 code ("en") when the provider's value is known.
    """

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
    page_count: int | None = None
    isbns: list[str] = field(default_factory=list)  # every ISBN the provider links to it (``isbn`` first)


@dataclass
class SeriesMember:
    """A book at a position of a series, per a provider (dates as in ``BookRecord``)."""

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
    series_name: str = ""
    published_year: int | None = None


class NotFoundAnswer(Exception):
    """Raised by ``fetch_*`` when the service says the thing does not exist (cached as empty)."""


class ProviderClient(HttpClient):
    """``HttpClient`` named after one provider, with the provider settings' retry pace."""

    def __init__(self, *, service: str, credentials_hint: str = "", follow_redirects: bool = False, **options):
        self.service = service
        if credentials_hint:
            self.credentials_hint = credentials_hint
        super().__init__(
            timeout=settings.PROVIDER_TIMEOUT,
            retries=settings.PROVIDER_RETRIES,
            **options,
        )
        self.backoff_base = settings.PROVIDER_RETRY_BASE_SECONDS
        self._client.follow_redirects = follow_redirects

    def get_json(self, path: str, *, params: dict | None = None, missing_ok: bool = False) -> Any:
        """GET a JSON body; with ``missing_ok`` a 404 raises ``NotFoundAnswer`` instead of failing."""
        try:
            return self.request_json("GET", path, params=params)
        except ExternalApiError as exc:
            status = (exc.context or {}).get("status_code")
            if missing_ok and status == 404:
                raise NotFoundAnswer(path) from exc
            raise


class MetadataProvider:
    """Base class: subclasses set ``name``/``service`` and implement the operations they can answer.

    Every method may return an empty result when the service knows nothing; methods a
    service cannot answer at all raise ``NotImplementedError`` (the registry skips them).
    A provider owns one HTTP client, made on first use; ``close()`` releases it.
    """

    name: str = ""
    service: str = ""
    url_setting: str = ""

    def __init__(self):
        self._client: ProviderClient | None = None

    # --- configuration --------------------------------------------------------------------

    def is_configured(self) -> bool:
        return bool(self.url())

    def url(self) -> str:
        return getattr(settings, self.url_setting, "") if self.url_setting else ""

    def public_url(self) -> str:
        """The base URL without credentials or query string (for status pages)."""
        parts = urlsplit(self.url())
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))

    def make_client(self) -> ProviderClient:
        return ProviderClient(service=self.service, base_url=self.url())

    @property
    def client(self) -> ProviderClient:
        if self._client is None:
            self._client = self.make_client()
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # --- operations (used by the registry) ------------------------------------------------

    def supports(self, operation: str) -> bool:
        return callable(getattr(self, f"fetch_{operation}", None))

    def fetch(self, operation: str, **params) -> Any:
        """The service's raw JSON answer; ``NotFoundAnswer`` for "no such thing"."""
        if not self.supports(operation):
            raise NotImplementedError(f"{self.name} cannot answer {operation}.")
        return getattr(self, f"fetch_{operation}")(**params)

    def parse(self, operation: str, payload: Any, **params) -> list:
        """Records from a payload ``fetch`` returned (``None``: a cached "not found")."""
        if payload is None:
            return []
        return getattr(self, f"parse_{operation}")(payload, **params)

    def answer(self, operation: str, **params) -> list:
        """Ask the service directly (no cache, no circuit breaker)."""
        try:
            payload = self.fetch(operation, **params)
        except NotFoundAnswer:
            return []
        return self.parse(operation, payload, **params)

    # --- the plain interface -------------------------------------------------------------

    def book_by_isbn(self, isbn: str) -> BookRecord | None:
        records = self.answer("isbn", isbn=isbn)
        return records[0] if records else None

    def book_by_asin(self, asin: str) -> BookRecord | None:
        records = self.answer("asin", asin=asin)
        return records[0] if records else None

    def search_books(self, *, title: str, author: str = "") -> list[BookRecord]:
        return self.answer("search", title=title, author=author)

    def series_members(self, *, series_name: str, author: str = "") -> list[SeriesMember]:
        return self.answer("series", series_name=series_name, author=author)

    def author_books(self, *, author: str) -> list[BookRecord]:
        return self.answer("author_books", author=author)
