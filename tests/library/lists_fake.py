"""Fake import-list sources on pytest-httpserver, in their real wire formats.

* Goodreads: ``GET /review/list_rss/<user>?key=…&shelf=…`` answering a shelf's RSS 2.0 feed
  as Goodreads writes it (``application/xml``, CDATA sections, ``book_id``, ``author_name``,
  ``isbn``, ``user_shelves``, ``user_read_at``, nested ``<book id><num_pages>``); a wrong key
  gets the sign-in HTML page, as a private shelf does.
* Hardcover: ``POST /v1/graphql`` with ``Authorization: Bearer <token>``, answering the
  want-to-read query with ``{"data": {"me": [{"user_books": [{"book": …}]}]}}``.
* Audiobookshelf: ``PATCH /api/me/progress/<item id>`` (answers "OK", as ABS does).

``goodreads_body`` / ``hardcover_status`` replace an answer to stage failures; every request
is kept in ``requests`` (method, path, query, headers, body).
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from xml.sax.saxutils import escape

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.library.abs_fake import fake_server  # noqa: F401 - the shared server, re-exported

GOODREADS_USER = "12345"
GOODREADS_KEY = "gr-feed-key-9c1d"
HARDCOVER_TOKEN = "hc-token-77ab"
ABS_KEY = "abs-key-progress-3f"
_PROGRESS = re.compile(r"^/api/me/progress/(?P<item>[^/]+)$")

SIGN_IN_PAGE = (
    '<!DOCTYPE html>\n<html class="desktop">\n<head><title>Sign in | Goodreads</title></head>\n'
    '<body><div id="signInForm">Sign in to Goodreads</div></body>\n</html>\n'
)
ENTITY_BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n  <!ENTITY lol "lol">\n'
    + "".join(f'  <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n' for n in range(1, 10))
    + ']>\n<rss version="2.0"><channel><item><title>&lol9;</title><author_name>X</author_name></item>'
    "</channel></rss>\n"
)


def gr_item(
    title: str,
    author: str,
    *,
    isbn: str = "",
    book_id: int = 1,
    shelves: str = "to-read",
    read_at: str = "",
    published: str = "2015",
) -> dict:
    return {
        "title": title,
        "author": author,
        "isbn": isbn,
        "book_id": book_id,
        "shelves": shelves,
        "read_at": read_at,
        "published": published,
    }


def goodreads_feed(items: list[dict], *, shelf: str = "to-read") -> str:
    """A shelf's RSS feed as Goodreads serves it."""
    entries = []
    for item in items:
        review = f"https://www.goodreads.com/review/show/{9000 + item['book_id']}?utm_medium=api&amp;utm_source=rss"
        entries.append(
            f"""  <item>
    <guid><![CDATA[{review}]]></guid>
    <pubDate><![CDATA[Sat, 02 Mar 2024 09:14:31 -0800]]></pubDate>
    <title>{escape(item["title"])}</title>
    <link><![CDATA[{review}]]></link>
    <book_id>{item["book_id"]}</book_id>
    <book_image_url><![CDATA[https://i.gr-assets.com/images/S/{item["book_id"]}._SX50_.jpg]]></book_image_url>
    <book_description><![CDATA[A <b>gripping</b> tale.<br /><br />Of {escape(item["title"])}.]]></book_description>
    <book id="{item["book_id"]}">
      <num_pages>412</num_pages>
    </book>
    <author_name>{escape(item["author"])}</author_name>
    <isbn>{item["isbn"]}</isbn>
    <user_name>Reader</user_name>
    <user_rating>0</user_rating>
    <user_read_at>{item["read_at"]}</user_read_at>
    <user_date_added><![CDATA[Sat, 02 Mar 2024 09:14:31 -0800]]></user_date_added>
    <user_date_created><![CDATA[Fri, 01 Mar 2024 18:02:11 -0800]]></user_date_created>
    <user_shelves>{item["shelves"]}</user_shelves>
    <user_review></user_review>
    <average_rating>4.12</average_rating>
    <book_published>{item["published"]}</book_published>
    <description>
      <![CDATA[<a href="https://www.goodreads.com/book/show/{item["book_id"]}">{escape(item["title"])}</a>]]>
    </description>
  </item>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:atom="http://www.w3.org/2005/Atom" version="2.0">
<channel>
  <xhtml:meta xmlns:xhtml="http://www.w3.org/1999/xhtml" name="robots" content="noindex" />
  <title>Reader's bookshelf: {shelf}</title>
  <copyright><![CDATA[Copyright (C) 2024 Goodreads Inc. All rights reserved.]]></copyright>
  <link><![CDATA[https://www.goodreads.com/review/list_rss/{GOODREADS_USER}?shelf={shelf}]]></link>
  <atom:link href="https://www.goodreads.com/review/list_rss/{GOODREADS_USER}" rel="self" type="application/rss+xml"/>
  <description><![CDATA[Reader's bookshelf: {shelf}]]></description>
  <language>en-US</language>
  <lastBuildDate>Sat, 02 Mar 2024 09:14:31 -0800</lastBuildDate>
  <ttl>60</ttl>
{chr(10).join(entries)}
</channel>
</rss>
"""


def hc_book(
    book_id: int,
    title: str,
    authors: list[str],
    *,
    editions: list[dict] | None = None,
    narrators: list[str] = (),
) -> dict:
    """A ``book`` of the want-to-read answer: authors have no role, narrators carry theirs."""
    contributions = [{"contribution": None, "author": {"name": name}} for name in authors]
    contributions += [{"contribution": "Narrator", "author": {"name": name}} for name in narrators]
    return {
        "id": book_id,
        "title": title,
        "subtitle": None,
        "release_date": "2019-05-07",
        "contributions": contributions,
        "editions": editions if editions is not None else [{"isbn_13": None, "isbn_10": None, "asin": None}],
    }


class FakeLists:
    """The fake's state: the Goodreads items, the Hardcover books, and what was received."""

    def __init__(self, server: HTTPServer):
        self.server = server
        self.goodreads_items: list[dict] = []
        self.goodreads_body: str | bytes | None = None  # replaces the feed when set
        self.goodreads_content_type = "application/xml; charset=utf-8"
        self.hardcover_books: list[dict] = []
        self.hardcover_status = 200
        self.requests: list[dict] = []
        self.finished: list[str] = []
        server.expect_request(f"/review/list_rss/{GOODREADS_USER}", method="GET").respond_with_handler(
            self._record(self._goodreads)
        )
        server.expect_request("/v1/graphql", method="POST").respond_with_handler(self._record(self._hardcover))
        server.expect_request(_PROGRESS, method="PATCH").respond_with_handler(self._record(self._progress))

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    @property
    def feed_url(self) -> str:
        return f"{self.url}/review/list_rss/{GOODREADS_USER}?key={GOODREADS_KEY}&shelf=%23ALL%23"

    def requests_to(self, path_start: str) -> list[dict]:
        return [request for request in self.requests if request["path"].startswith(path_start)]

    def _record(self, handler):
        def recorded(request: Request) -> Response:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": dict(request.args),
                    "headers": dict(request.headers),
                    "body": request.get_data(as_text=True),
                }
            )
            return handler(request)

        return recorded

    def _goodreads(self, request: Request) -> Response:
        if request.args.get("key") != GOODREADS_KEY:
            return Response(SIGN_IN_PAGE, status=200, content_type="text/html; charset=utf-8")
        body = self.goodreads_body if self.goodreads_body is not None else goodreads_feed(self.goodreads_items)
        return Response(body, status=200, content_type=self.goodreads_content_type)

    def _hardcover(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {HARDCOVER_TOKEN}":
            return _json({"error": "Unable to verify token"}, status=401)
        if self.hardcover_status != 200:
            return Response("upstream error", status=self.hardcover_status, content_type="text/plain")
        query = (json.loads(request.get_data(as_text=True) or "{}").get("query")) or ""
        if "me" not in query or "user_books" not in query:
            return _json({"errors": [{"message": "field not found in type: 'query_root'"}]})
        wanted = "status_id: {_eq: 1}" in query
        books = self.hardcover_books if wanted else []
        return _json({"data": {"me": [{"user_books": [{"book": book} for book in books]}]}})

    def _progress(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {ABS_KEY}":
            return Response("Unauthorized", status=401, content_type="text/plain")
        body = json.loads(request.get_data(as_text=True) or "{}")
        if body != {"isFinished": True}:
            return Response("Invalid request", status=400, content_type="text/plain")
        self.finished.append(_PROGRESS.match(request.path)["item"])
        return Response("OK", status=200, content_type="text/plain")


def _json(payload, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json")


@contextmanager
def running_fake(settings, server: HTTPServer, *, goodreads: bool = True, hardcover: bool = True):
    """A FakeLists on ``server`` with the list, Hardcover and ABS settings pointed at it."""
    fake = FakeLists(server)
    settings.GOODREADS_RSS_URL = fake.feed_url if goodreads else ""
    settings.HARDCOVER_URL = f"{fake.url}/v1/graphql"
    settings.HARDCOVER_TOKEN = HARDCOVER_TOKEN if hardcover else ""
    settings.IMPORT_LISTS_TIMEOUT = 2.0
    settings.PROVIDER_RETRIES = 0
    settings.ABS_URL = fake.url
    settings.ABS_API_KEY = ABS_KEY
    settings.ABS_RETRIES = 0
    settings.ABS_PUSH_PROGRESS = False
    try:
        yield fake
    finally:
        server.clear()
