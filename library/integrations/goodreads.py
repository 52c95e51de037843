"""Goodreads shelf RSS feeds (SPEC §9): the books on a shelf, for the ``import_lists`` job.

A shelf's RSS link (``/review/list_rss/<user id>?key=…&shelf=to-read``) answers
``<rss><channel><item>…`` where each item carries ``title`` ("The Way of Kings (The
Stormlight Archive, #1)"), ``author_name``, ``isbn`` (empty for many e-books), ``isbn13``
(some feeds), ``book_id``, ``user_shelves`` (comma separated), ``user_read_at``,
``book_published`` and ``book/num_pages``; any value may be CDATA.

The URL comes from ``GOODREADS_RSS_URL`` only.  defusedxml is not a dependency, so a
document declaring a DOCTYPE or an ENTITY is refused before the standard library parses it
(no entity expansion, no external entities).  HTML (a private profile's sign-in page), text
that is not XML and XML that is not RSS are ``ExternalApiError`` saying what came back.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET  # noqa: S405 - only documents without DOCTYPE/ENTITY reach it
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from xml.parsers import expat  # noqa: S410 - used to find declarations, never to expand them

import httpx
from django.conf import settings

from library.integrations.base import HttpClient
from library.naming import clean, person_name
from library.providers.base import BookRecord
from library.providers.parsing import isbn_list, position_label, published
from mamcrawler.api.exceptions import ExternalApiError

SERVICE = "Goodreads"
PROVIDER = "goodreads"
RETRIES = 2
# "Title (Series Name, #3)" / "(Series #2.5)" / "(Series, #1-3)": Goodreads' series suffix.
_SERIES_SUFFIX = re.compile(r"^(?P<title>.+?)\s*\((?P<series>[^()]+?),?\s+#(?P<position>[\d.]+(?:-[\d.]+)?)\)\s*$")
# A BOM, an XML declaration and comments may come before ``<!DOCTYPE html>`` or ``<html>``.
_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S
)


@dataclass
class GoodreadsBook(BookRecord):
    """A book on the feed's shelf: a ``BookRecord`` plus the reader's shelves and read date."""

    shelves: list[str] = field(default_factory=list)
    read_at: str = ""  # as Goodreads wrote it ("Sat, 02 Mar 2024 00:00:00 -0800"), "" when unread

    @property
    def is_read(self) -> bool:
        """On the exclusive "read" shelf, or given a read date."""
        return "read" in self.shelves or bool(self.read_at)


def goodreads_configured() -> bool:
    return bool(settings.GOODREADS_RSS_URL)


class GoodreadsClient(HttpClient):
    """Fetches and parses one shelf feed; its URL's query (``key``, ``shelf``) is sent as parameters."""

    service = SERVICE
    credentials_hint = "check GOODREADS_RSS_URL (a shelf's RSS link, with its key if the profile is private)"

    def __init__(self, *, url: str, timeout: float = 20.0, retries: int = RETRIES, transport=None):
        parts = urlsplit(url or "")
        self._path = parts.path or "/"
        self._params = dict(parse_qsl(parts.query, keep_blank_values=True))
        origin = urlunsplit((parts.scheme, parts.netloc, "", "", "")) if parts.scheme and parts.netloc else ""
        super().__init__(
            base_url=origin,
            timeout=timeout,
            retries=retries,
            headers={"Accept": "application/rss+xml, application/xml;q=0.9, text/xml;q=0.8"},
            # The feed key is a credential: masked in every message.
            secrets=[value for name, value in self._params.items() if name == "key"],
            transport=transport,
        )
        self._client.follow_redirects = True

    @classmethod
    def from_settings(cls, **overrides) -> GoodreadsClient:
        if not settings.GOODREADS_RSS_URL:
            raise ExternalApiError(
                f"{SERVICE} is not configured: set GOODREADS_RSS_URL.", service=SERVICE, retryable=False
            )
        options = {"url": settings.GOODREADS_RSS_URL, "timeout": settings.IMPORT_LISTS_TIMEOUT}
        return cls(**{**options, **overrides})

    def shelf(self) -> list[GoodreadsBook]:
        """Every book of the feed, in its order; ``ExternalApiError`` when the answer is not such a feed."""
        response = self.request("GET", self._path, params=self._params)
        return [book for book in map(_book, self._items(response)) if book is not None]

    def _items(self, response: httpx.Response) -> list[ET.Element]:
        body = response.content
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        if _HTML_START.match(body[:4096]):
            raise self._garbage(
                f"sent an HTML page ({kind}), not an RSS feed: use a shelf's RSS link, and the profile must be public "
                "or the link carry its key"
            )
        problem = _declaration(body)
        if problem:
            raise self._garbage(f"sent a feed with {problem}, which is refused (entity expansion)")
        try:
            root = ET.fromstring(body)  # noqa: S314 - DOCTYPE and ENTITY declarations were refused above
        except ET.ParseError as exc:
            raise self._garbage(f"sent a body that is not XML ({kind}, {len(body)} bytes: {exc})")
        channel = root.find("channel") if root.tag == "rss" else None
        if channel is None:
            raise self._garbage(f"sent XML that is not an RSS feed (root element <{root.tag}>)")
        return channel.findall("item")

    def _garbage(self, text: str) -> ExternalApiError:
        return self._error(text, retryable=False)


def _declaration(body: bytes) -> str:
    """What makes ``body`` unsafe to parse ("a DOCTYPE declaration", …), or "" (also for non-XML)."""
    found: list[str] = []

    def stop(what: str):
        def handler(*_args):
            found.append(what)
            raise _Stop()

        return handler

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = stop("a DOCTYPE declaration")
    parser.EntityDeclHandler = stop("an ENTITY declaration")
    parser.ExternalEntityRefHandler = stop("an external entity")
    # ExpatError: not XML at all, which ElementTree reports with its reason.
    with contextlib.suppress(_Stop, expat.ExpatError):
        parser.Parse(body, True)
    return found[0] if found else ""


class _Stop(Exception):
    pass


def _text(item: ET.Element, path: str) -> str:
    node = item.find(path)
    return clean(node.text or "") if node is not None else ""


def _book(item: ET.Element) -> GoodreadsBook | None:
    raw_title = _text(item, "title")
    author = person_name(_text(item, "author_name"))
    if not raw_title:
        return None
    title, series_name, position = raw_title, "", ""
    if match := _SERIES_SUFFIX.match(raw_title):
        label = position_label(match["position"])
        if label:
            title, series_name, position = clean(match["title"]), clean(match["series"]), label
    year, day = published(_text(item, "book_published"))
    isbns = isbn_list([_text(item, "isbn13"), _text(item, "isbn")])
    book_id = _text(item, "book_id") or (item.find("book").get("id", "") if item.find("book") is not None else "")
    shelves = [clean(shelf).lower() for shelf in _text(item, "user_shelves").split(",") if clean(shelf)]
    pages = _text(item, "book/num_pages") or _text(item, "num_pages")
    return GoodreadsBook(
        provider=PROVIDER,
        title=title,
        authors=[author] if author else [],
        series_name=series_name,
        series_position=position,
        isbn=isbns[0] if isbns else "",
        isbns=isbns,
        published_year=year,
        published_date=day,
        identifiers={PROVIDER: book_id} if book_id else {},
        page_count=int(pages) if pages.isdigit() else None,
        shelves=shelves,
        read_at=_text(item, "user_read_at"),
    )
