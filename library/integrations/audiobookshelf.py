"""The Audiobookshelf client: libraries, paged library items, media updates and scans.

Authenticates with ``Authorization: Bearer <ABS_API_KEY>`` (an API key, or a user's token).
Every failure is an ``ExternalApiError`` with service "Audiobookshelf" (see ``base``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from django.conf import settings

from library.integrations.base import HttpClient
from mamcrawler.api.exceptions import ExternalApiError

SERVICE = "Audiobookshelf"
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class ItemPage:
    """One page of a library's items: ``page`` counts from 0, ``total`` is the library's item count."""

    library_id: str
    page: int
    limit: int
    total: int
    items: list[dict]


def abs_configured() -> bool:
    """True when ABS_URL and ABS_API_KEY are both set."""
    return bool(settings.ABS_URL and settings.ABS_API_KEY)


class AudiobookshelfClient(HttpClient):
    """Audiobookshelf's REST API (``/api/libraries``, ``/api/items``)."""

    service = SERVICE
    credentials_hint = "check ABS_API_KEY (an Audiobookshelf API key, sent as a bearer token)"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float = 15.0,
        retries: int = 3,
        page_size: int = 100,
        transport: httpx.BaseTransport | None = None,
    ):
        if not api_key:
            raise ExternalApiError(f"{SERVICE} is not configured: set ABS_API_KEY.", service=SERVICE, retryable=False)
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            retries=retries,
            headers={"Authorization": f"Bearer {api_key}"},
            secrets=[api_key],
            transport=transport,
        )
        self.page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))

    @classmethod
    def from_settings(cls, **overrides) -> AudiobookshelfClient:
        """A client configured from ABS_URL, ABS_API_KEY, ABS_TIMEOUT, ABS_RETRIES and ABS_PAGE_SIZE."""
        if not settings.ABS_URL:
            raise ExternalApiError(f"{SERVICE} is not configured: set ABS_URL.", service=SERVICE, retryable=False)
        options = {
            "base_url": settings.ABS_URL,
            "api_key": settings.ABS_API_KEY,
            "timeout": settings.ABS_TIMEOUT,
            "retries": settings.ABS_RETRIES,
            "page_size": settings.ABS_PAGE_SIZE,
        }
        return cls(**{**options, **overrides})

    def libraries(self) -> list[dict]:
        """The libraries this key can see: dicts with ``id``, ``name``, ``mediaType`` (book/podcast), …"""
        body = self.request_json("GET", "/api/libraries")
        libraries = body.get("libraries") if isinstance(body, dict) else None
        if not isinstance(libraries, list):
            raise self._shape_error("GET /api/libraries", "no 'libraries' list")
        return [library for library in libraries if isinstance(library, dict) and library.get("id")]

    def item_page(self, library_id: str, page: int) -> ItemPage:
        """Page ``page`` (from 0) of a library's items, oldest first so pages stay stable during a sync."""
        path = f"/api/libraries/{_segment(library_id)}/items"
        params = {"limit": self.page_size, "page": page, "sort": "addedAt", "desc": 0}
        body = self.request_json("GET", path, params=params)
        results = body.get("results") if isinstance(body, dict) else None
        total = body.get("total") if isinstance(body, dict) else None
        if not isinstance(results, list) or not isinstance(total, int) or isinstance(total, bool):
            raise self._shape_error(f"GET {path}", "no 'results' list and 'total' count")
        return ItemPage(
            library_id=library_id,
            page=page,
            limit=self.page_size,
            total=total,
            items=[item for item in results if isinstance(item, dict)],
        )

    def item_pages(self, library_id: str) -> Iterator[ItemPage]:
        """Every page of a library's items, until ``total`` items are read (or a page comes back empty)."""
        page = read = 0
        while True:
            current = self.item_page(library_id, page)
            yield current
            read += len(current.items)
            if not current.items or read >= current.total:
                return
            page += 1

    def items(self, library_id: str) -> Iterator[dict]:
        """Every item of a library, page by page."""
        for page in self.item_pages(library_id):
            yield from page.items

    def update_media(self, item_id: str, metadata: dict) -> dict:
        """``PATCH /api/items/{id}/media`` with ``{"metadata": metadata}``; returns ABS's answer."""
        body = self.request_json("PATCH", f"/api/items/{_segment(item_id)}/media", json={"metadata": metadata})
        return body if isinstance(body, dict) else {}

    def mark_finished(self, item_id: str) -> None:
        """``PATCH /api/me/progress/{id}`` with ``{"isFinished": true}``: the key's user has finished the item."""
        # ABS answers a bare "OK", not JSON.
        self.request("PATCH", f"/api/me/progress/{_segment(item_id)}", json={"isFinished": True})

    def scan_library(self, library_id: str, *, force: bool = False) -> None:
        """Ask Audiobookshelf to scan a library's folders (it answers at once and scans in the background)."""
        params = {"force": 1} if force else None
        self.request("POST", f"/api/libraries/{_segment(library_id)}/scan", params=params)

    def _shape_error(self, what: str, problem: str) -> ExternalApiError:
        return self._error(f"sent an unexpected answer to {what}: {problem}", retryable=False)


def _segment(value: str) -> str:
    """An id made safe to use as one path segment."""
    return quote(str(value), safe="")
