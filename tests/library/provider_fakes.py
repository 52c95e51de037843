"""Fake metadata services on one pytest-httpserver, each answering in its real wire format.

``FakeProviders(server)`` serves, under one path prefix per service:

- OpenLibrary (``/ol``): ``/isbn/{isbn}.json`` (a 302 to ``/books/{edition}.json``, as the
  real site does), ``/books/…``, ``/works/…``, ``/authors/{id}.json``, ``/search.json``
  (``title``/``author``/``q``, honouring ``fields``), ``/search/authors.json`` and
  ``/authors/{id}/works.json``;
- Google Books (``/gb``): ``/books/v1/volumes?q=isbn:…|intitle:"…" inauthor:"…"`` (``key`` checked when set);
- Hardcover (``/hc/v1/graphql``): GraphQL POSTs answered by operation name, behind the bearer token;
- Audnexus (``/ax``): ``/books/{asin}``.

The catalogue is the Stormlight Archive.  ``fail(service, mode, times)`` makes the next
``times`` requests to a service stall past the client timeout (``"timeout"``), send a
non-JSON body (``"garbage"``), JSON of the wrong shape (``"shape"``), GraphQL ``errors``
(``"errors"``) or an HTTP status (``429`` with ``retry_after``).  ``requests[service]``
records what each service received.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from contextlib import contextmanager

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

HARDCOVER_TOKEN = "hc-test-token-7b1e2f"
GOOGLE_KEY = "gb-test-key-41a9"
CLIENT_TIMEOUT = 0.3
STALL_SECONDS = 0.8
PREFIXES = {"openlibrary": "/ol", "googlebooks": "/gb", "hardcover": "/hc", "audnexus": "/ax"}
ALWAYS = math.inf

AUTHOR = {"name": "Brandon Sanderson", "ol": "OL1394865A", "hc": 204214, "asin": "B001IGFHW6"}
SERIES = "The Stormlight Archive"

# Position, title, release date, ISBN-13, ISBN-10, ASIN, OpenLibrary work/edition, Google id, Hardcover id.
BOOKS = [
    {
        "position": 1,
        "title": "The Way of Kings",
        "date": "2010-08-31",
        "isbn13": "9780765326355",
        "isbn10": "0765326353",
        "asin": "B003ZWFO7E",
        "work": "OL15358691W",
        "edition": "OL24381290M",
        "google": "QVn-CgAAQBAJ",
        "hardcover": 386446,
        "pages": 1007,
        "runtime": 2734,
    },
    {
        "position": 2,
        "title": "Words of Radiance",
        "date": "2014-03-04",
        "isbn13": "9780765326362",
        "isbn10": "076532636X",
        "asin": "B00DA6YEKS",
        "work": "OL16801546W",
        "edition": "OL26398014M",
        "google": "FSUnAQAAQBAJ",
        "hardcover": 386448,
        "pages": 1087,
        "runtime": 2900,
    },
    {
        "position": 2.5,
        "title": "Edgedancer",
        "date": "2016-10-04",
        "isbn13": "9781250166548",
        "isbn10": "1250166543",
        "asin": "B01LXXD4FQ",
        "work": "OL19734583W",
        "edition": "OL26835302M",
        "google": "0gQWDQAAQBAJ",
        "hardcover": 386450,
        "pages": 272,
        "runtime": 470,
    },
    {
        "position": 3,
        "title": "Oathbringer",
        "date": "2017-11-14",
        "isbn13": "9780765326379",
        "isbn10": "0765326378",
        "asin": "B075Y5NNN7",
        "work": "OL17729862W",
        "edition": "OL26919531M",
        "google": "5AsuDwAAQBAJ",
        "hardcover": 386452,
        "pages": 1248,
        "runtime": 3304,
    },
    {
        "position": 4,
        "title": "Rhythm of War",
        "date": "2020-11-17",
        "isbn13": "9780765326386",
        "isbn10": "0765326388",
        "asin": "B08GF4ZX9N",
        "work": "OL20907654W",
        "edition": "OL29474416M",
        "google": "aLTaDwAAQBAJ",
        "hardcover": 386454,
        "pages": 1232,
        "runtime": 3471,
    },
]
BY_ISBN = {book[key]: book for book in BOOKS for key in ("isbn13", "isbn10")}
BY_ASIN = {book["asin"]: book for book in BOOKS}
BY_EDITION = {book["edition"]: book for book in BOOKS}
BY_WORK = {book["work"]: book for book in BOOKS}
# Google's publishedDate is a year or a year-month for some volumes.
GOOGLE_DATES = {"Words of Radiance": "2014", "Edgedancer": "2016-10"}
DESCRIPTION = "<p>Roshar is a world of stone and storms.</p>"


def _position_text(position) -> str:
    return format(position, "g")


# --- the services' documents -------------------------------------------------------------


def ol_edition(book: dict) -> dict:
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]
    year, month, day = (int(part) for part in book["date"].split("-"))
    return {
        "publishers": ["Tor"],
        "number_of_pages": book["pages"],
        "isbn_10": [book["isbn10"]],
        "covers": [8314077],
        "key": f"/books/{book['edition']}",
        "authors": [{"key": f"/authors/{AUTHOR['ol']}"}],
        "title": book["title"],
        "identifiers": {"goodreads": ["7235533"], "librarything": ["9714838"]},
        "isbn_13": [book["isbn13"]],
        "languages": [{"key": "/languages/eng"}],
        "publish_date": f"{months[month - 1]} {day}, {year}" if month <= 10 else str(year),
        "series": [f"{SERIES} ; {_position_text(book['position'])}"],
        "works": [{"key": f"/works/{book['work']}"}],
        "type": {"key": "/type/edition"},
        "physical_format": "Hardcover",
        "latest_revision": 12,
        "revision": 12,
        "created": {"type": "/type/datetime", "value": "2010-09-14T18:04:18.812377"},
        "last_modified": {"type": "/type/datetime", "value": "2023-01-05T10:11:12.000000"},
    }


def ol_work(book: dict) -> dict:
    return {
        "title": book["title"],
        "key": f"/works/{book['work']}",
        "authors": [{"author": {"key": f"/authors/{AUTHOR['ol']}"}, "type": {"key": "/type/author_role"}}],
        "description": {"type": "/type/text", "value": f"{book['title']}: Roshar is a world of stone and storms."},
        "subjects": ["Fantasy fiction", "Epic fantasy"],
        "first_publish_date": book["date"][:4],
        "type": {"key": "/type/work"},
        "latest_revision": 30,
        "revision": 30,
    }


def ol_author() -> dict:
    return {
        "name": AUTHOR["name"],
        "personal_name": AUTHOR["name"],
        "key": f"/authors/{AUTHOR['ol']}",
        "birth_date": "19 December 1975",
        "type": {"key": "/type/author"},
        "remote_ids": {"wikidata": "Q353254"},
        "revision": 40,
    }


def ol_search_doc(book: dict) -> dict:
    return {
        "key": f"/works/{book['work']}",
        "type": "work",
        "title": book["title"],
        "author_name": [AUTHOR["name"]],
        "author_key": [AUTHOR["ol"]],
        "first_publish_year": int(book["date"][:4]),
        "isbn": [book["isbn10"], book["isbn13"], "9781429992800"],
        "publisher": ["Tor", "Tor Books", "Gollancz"],
        "language": ["eng", "spa"],
        "edition_count": 40,
        "series": [f"{SERIES} ; {_position_text(book['position'])}"],
    }


# A document whose series place is not a number: the provider must skip it.
OL_PRELUDE_DOC = {
    "key": "/works/OL99999999W",
    "type": "work",
    "title": "Prelude to the Stormlight Archive",
    "author_name": [AUTHOR["name"]],
    "first_publish_year": 2010,
    "series": [f"{SERIES} ; Prequel"],
}


def google_volume(book: dict) -> dict:
    return {
        "kind": "books#volume",
        "id": book["google"],
        "etag": "n1Iu1Z1cYQ0",
        "selfLink": f"https://www.googleapis.com/books/v1/volumes/{book['google']}",
        "volumeInfo": {
            "title": book["title"],
            "subtitle": "Book One of the Stormlight Archive" if book["position"] == 1 else None,
            "authors": [AUTHOR["name"]],
            "publisher": "Tom Doherty Associates",
            "publishedDate": GOOGLE_DATES.get(book["title"], book["date"]),
            "description": DESCRIPTION,
            "industryIdentifiers": [
                {"type": "ISBN_13", "identifier": book["isbn13"]},
                {"type": "ISBN_10", "identifier": book["isbn10"]},
            ],
            "readingModes": {"text": True, "image": False},
            "pageCount": book["pages"],
            "printType": "BOOK",
            "categories": ["Fiction"],
            "maturityRating": "NOT_MATURE",
            "allowAnonLogging": True,
            "contentVersion": "1.20.15.0.preview.2",
            "language": "en",
            "previewLink": "http://books.google.com/books?id=x",
            "canonicalVolumeLink": "https://books.google.com/books/about/x.html",
        },
        "saleInfo": {"country": "US", "saleability": "NOT_FOR_SALE", "isEbook": False},
        "accessInfo": {"country": "US", "viewability": "PARTIAL", "embeddable": True},
    }


def hardcover_book(book: dict, *, series: bool = True) -> dict:
    return {
        "id": book["hardcover"],
        "title": book["title"],
        "subtitle": None,
        "release_date": book["date"],
        "description": f"{book['title']}, the Stormlight Archive.",
        "contributions": [{"author": {"name": AUTHOR["name"]}}],
        "book_series": [{"position": book["position"], "series": {"name": SERIES}}] if series else [],
    }


def audnexus_book(book: dict) -> dict:
    return {
        "asin": book["asin"],
        "authors": [{"asin": AUTHOR["asin"], "name": AUTHOR["name"]}],
        "copyright": 2010,
        "description": f"{book['title']}: the Stormlight Archive.",
        "formatType": "unabridged",
        "genres": [{"asin": "18580606011", "name": "Science Fiction & Fantasy", "type": "genre"}],
        "image": "https://m.media-amazon.com/images/I/x.jpg",
        "isAdult": False,
        "isbn": book["isbn13"],
        "language": "english",
        "literatureType": "fiction",
        "narrators": [{"name": "Michael Kramer"}, {"name": "Kate Reading"}],
        "publisherName": "Macmillan Audio",
        "rating": "4.8",
        "region": "us",
        "releaseDate": f"{book['date']}T00:00:00.000Z",
        "runtimeLengthMin": book["runtime"],
        "seriesPrimary": {"asin": "B07BPZ1PJB", "name": SERIES, "position": _position_text(book["position"])},
        "subtitle": f"Stormlight Archive, Book {_position_text(book['position'])}",
        "summary": f"<p><b>{book['title']}</b> &amp; the storms.</p>",
        "title": book["title"],
    }


# --- the server ------------------------------------------------------------------------------


class FakeProviders:
    """The four services' state: failures to stage and what each received."""

    def __init__(self, server: HTTPServer, *, google_key: str = ""):
        self.server = server
        self.google_key = google_key
        self.failures: dict[str, list] = {}
        self.requests: dict[str, list[dict]] = {name: [] for name in PREFIXES}
        self._lock = threading.Lock()
        self._install()

    def url(self, service: str) -> str:
        base = self.server.url_for(PREFIXES[service])
        return f"{base}/v1/graphql" if service == "hardcover" else base

    def fail(self, service: str, mode, *, times: float = 1, retry_after: int | None = None) -> None:
        """Make the next ``times`` requests to ``service`` fail by ``mode`` (see the module docstring)."""
        self.failures[service] = [mode, times, retry_after]

    def count(self, service: str) -> int:
        return len(self.requests[service])

    # --- plumbing ------------------------------------------------------------------------

    def _install(self) -> None:
        routes = {
            "openlibrary": self._openlibrary,
            "googlebooks": self._google,
            "hardcover": self._hardcover,
            "audnexus": self._audnexus,
        }
        for service, handler in routes.items():
            pattern = re.compile(rf"^{PREFIXES[service]}/.*$")
            self.server.expect_request(pattern).respond_with_handler(self._guard(service, handler))

    def _guard(self, service, handler):
        def guarded(request: Request) -> Response:
            path = request.path.removeprefix(PREFIXES[service])
            with self._lock:
                self.requests[service].append(
                    {
                        "method": request.method,
                        "path": path,
                        "args": dict(request.args),
                        "headers": dict(request.headers),
                        "body": request.get_data(as_text=True),
                    }
                )
            failure = self._take_failure(service)
            if failure is not None:
                mode, retry_after = failure
                if mode == "timeout":
                    time.sleep(STALL_SECONDS)
                elif mode == "garbage":
                    return Response("<html><body>502 Bad Gateway</body></html>", status=200, content_type="text/html")
                elif mode == "shape":
                    return _json(["valid JSON", "of a shape no client expects"])
                elif mode == "errors":
                    return _json({"errors": [{"message": "field 'editions' not found in type: 'query_root'"}]})
                else:
                    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                    return Response("Too busy", status=mode, headers=headers, content_type="text/plain")
            return handler(request, path)

        return guarded

    def _take_failure(self, service: str):
        with self._lock:
            failure = self.failures.get(service)
            if not failure or failure[1] <= 0:
                return None
            failure[1] -= 1
            return failure[0], failure[2]

    # --- OpenLibrary -----------------------------------------------------------------------

    def _openlibrary(self, request: Request, path: str) -> Response:
        prefix = PREFIXES["openlibrary"]
        if match := re.fullmatch(r"/isbn/([0-9X]+)\.json", path):
            book = BY_ISBN.get(match[1])
            if book is None:
                return _json({"error": "notfound", "key": f"/isbn/{match[1]}"}, status=404)
            return Response("", status=302, headers={"Location": f"{prefix}/books/{book['edition']}.json"})
        if match := re.fullmatch(r"/books/(OL\d+M)\.json", path):
            return _found(BY_EDITION.get(match[1]), ol_edition, path)
        if match := re.fullmatch(r"/works/(OL\d+W)\.json", path):
            return _found(BY_WORK.get(match[1]), ol_work, path)
        if path == f"/authors/{AUTHOR['ol']}.json":
            return _json(ol_author())
        if path == f"/authors/{AUTHOR['ol']}/works.json":
            entries = [
                {
                    "type": {"key": "/type/work"},
                    "title": book["title"],
                    "authors": [{"type": {"key": "/type/author_role"}, "author": {"key": f"/authors/{AUTHOR['ol']}"}}],
                    "key": f"/works/{book['work']}",
                    "latest_revision": 5,
                    "revision": 5,
                    "created": {"type": "/type/datetime", "value": "2012-01-01T00:00:00"},
                }
                for book in BOOKS
            ]
            return _json(
                {
                    "links": {"self": f"{path}?limit=200", "author": f"/authors/{AUTHOR['ol']}"},
                    "size": len(entries),
                    "entries": entries,
                }
            )
        if path == "/search/authors.json":
            wanted = request.args.get("q", "").lower()
            docs = [
                {
                    "key": AUTHOR["ol"],
                    "type": "author",
                    "name": AUTHOR["name"],
                    "birth_date": "19 December 1975",
                    "top_work": "Mistborn",
                    "work_count": 294,
                },
                {"key": "OL7654321A", "type": "author", "name": "Brandon Sanderson Fan Club", "work_count": 1},
            ]
            docs = [doc for doc in docs if wanted and wanted in doc["name"].lower()]
            return _json({"numFound": len(docs), "start": 0, "numFoundExact": True, "docs": docs})
        if path == "/search.json":
            return _json(self._ol_search(request.args))
        return _json({"error": "notfound", "key": path}, status=404)

    def _ol_search(self, args) -> dict:
        docs = [ol_search_doc(book) for book in BOOKS] + [OL_PRELUDE_DOC]
        title, author, query = (args.get(name, "").lower() for name in ("title", "author", "q"))
        if title:
            docs = [doc for doc in docs if title in doc["title"].lower()]
        if author:
            docs = [doc for doc in docs if any(author in name.lower() for name in doc.get("author_name", []))]
        if query:
            docs = [doc for doc in docs if query in json.dumps(doc).lower()]
        docs = docs[: int(args.get("limit", 100))]
        if args.get("fields"):
            wanted = set(args["fields"].split(","))
            docs = [{key: value for key, value in doc.items() if key in wanted} for doc in docs]
        return {"numFound": len(docs), "start": 0, "numFoundExact": True, "docs": docs, "q": args.get("q", "")}

    # --- Google Books ----------------------------------------------------------------------

    def _google(self, request: Request, path: str) -> Response:
        if path != "/books/v1/volumes":
            return _json({"error": {"code": 404, "message": "Not Found", "errors": []}}, status=404)
        if self.google_key and request.args.get("key") != self.google_key:
            message = "API key not valid. Please pass a valid API key."
            return _json({"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}, status=400)
        query = request.args.get("q", "")
        books = BOOKS
        if match := re.match(r"isbn:(\S+)", query):
            books = [book for book in BOOKS if match[1] in (book["isbn13"], book["isbn10"])]
        else:
            if match := re.search(r'intitle:"([^"]*)"', query):
                books = [book for book in books if match[1].lower() in book["title"].lower()]
            if match := re.search(r'inauthor:"([^"]*)"', query):
                books = [book for book in books if match[1].lower() in AUTHOR["name"].lower()]
        books = books[: int(request.args.get("maxResults", 10))]
        if not books:
            return _json({"kind": "books#volumes", "totalItems": 0})
        return _json({"kind": "books#volumes", "totalItems": len(books), "items": [google_volume(b) for b in books]})

    # --- Hardcover ---------------------------------------------------------------------------

    def _hardcover(self, request: Request, path: str) -> Response:
        if request.method != "POST" or path != "/v1/graphql":
            return Response("Not Found", status=404, content_type="text/plain")
        if request.headers.get("Authorization") != f"Bearer {HARDCOVER_TOKEN}":
            return _json({"error": "Unable to verify token"}, status=401)
        body = json.loads(request.get_data(as_text=True) or "{}")
        operation = re.search(r"query\s+(\w+)", body.get("query", ""))
        variables = body.get("variables") or {}
        name = operation[1] if operation else ""
        if name == "BookByIsbn":
            books = [BY_ISBN[variables["isbn"]]] if variables.get("isbn") in BY_ISBN else []
            editions = [
                {
                    "isbn_13": book["isbn13"],
                    "isbn_10": book["isbn10"],
                    "asin": None,
                    "title": book["title"],
                    "release_date": book["date"],
                    "audio_seconds": None,
                    "publisher": {"name": "Tor Books"},
                    "book": hardcover_book(book),
                }
                for book in books
            ]
            return _json({"data": {"editions": editions}})
        if name == "BooksByTitle":
            books = [hardcover_book(book) for book in BOOKS if book["title"] == variables.get("title")]
            return _json({"data": {"books": books}})
        if name == "SeriesByName":
            series = []
            if variables.get("name") == SERIES:
                entries = [{"position": book["position"], "book": hardcover_book(book, series=False)} for book in BOOKS]
                # Hardcover lists books without a place too (companions): position null.
                entries.append(
                    {"position": None, "book": {"id": 1, "title": "Stormlight Companion", "contributions": []}}
                )
                series = [{"id": 997, "name": SERIES, "books_count": len(BOOKS), "book_series": entries}]
            return _json({"data": {"series": series}})
        if name == "AuthorBooks":
            authors = []
            if variables.get("name") == AUTHOR["name"]:
                contributions = [{"book": hardcover_book(book)} for book in BOOKS]
                authors = [{"id": AUTHOR["hc"], "name": AUTHOR["name"], "contributions": contributions}]
            return _json({"data": {"authors": authors}})
        return _json({"errors": [{"message": f"unknown operation {name!r}", "extensions": {"code": "validation"}}]})

    # --- Audnexus ----------------------------------------------------------------------------

    def _audnexus(self, request: Request, path: str) -> Response:
        if match := re.fullmatch(r"/books/([A-Z0-9]{10})", path):
            book = BY_ASIN.get(match[1])
            if book is None:
                return _json({"statusCode": 404, "error": "Not Found", "message": "Book not found"}, status=404)
            return _json(audnexus_book(book))
        return _json({"statusCode": 404, "error": "Not Found", "message": "Not found"}, status=404)


def _found(book: dict | None, render, path: str) -> Response:
    if book is None:
        return _json({"error": "notfound", "key": path.removesuffix(".json")}, status=404)
    return _json(render(book))


def _json(payload, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json")


@contextmanager
def fake_server():
    """A threaded HTTP server on 127.0.0.1 (share it per module: stopping one takes a while)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def point_settings(settings, fake: FakeProviders) -> None:
    """Every provider setting aimed at the fake: short timeout, two fast retries, a small circuit."""
    settings.METADATA_PROVIDERS = ["audnexus", "hardcover", "openlibrary", "googlebooks"]
    for service, name in (
        ("openlibrary", "OPENLIBRARY_URL"),
        ("googlebooks", "GOOGLE_BOOKS_URL"),
        ("hardcover", "HARDCOVER_URL"),
        ("audnexus", "AUDNEXUS_URL"),
    ):
        setattr(settings, name, fake.url(service))
    settings.GOOGLE_BOOKS_API_KEY = fake.google_key
    settings.HARDCOVER_TOKEN = HARDCOVER_TOKEN
    settings.PROVIDER_TIMEOUT = CLIENT_TIMEOUT
    settings.PROVIDER_RETRIES = 2
    settings.PROVIDER_RETRY_BASE_SECONDS = 0.001
    settings.PROVIDER_CACHE_DAYS = 30
    settings.CIRCUIT_FAILURES = 3
    settings.CIRCUIT_COOLDOWN = 300


@contextmanager
def running_fake(settings, server: HTTPServer, **options):
    """A ``FakeProviders`` on ``server`` with the settings pointed at it."""
    fake = FakeProviders(server, **options)
    point_settings(settings, fake)
    try:
        yield fake
    finally:
        server.clear()
