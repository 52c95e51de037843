"""A fake Audiobookshelf on pytest-httpserver, answering in ABS's real JSON shapes.

``FakeAudiobookshelf(server, items=1200, libraries=3)`` serves ``GET /api/libraries``,
paged ``GET /api/libraries/{id}/items?limit=&page=`` (page from 0, nested
``media.metadata``), ``PATCH /api/items/{id}/media`` (applied to the stored item, as ABS
does) and ``POST /api/libraries/{id}/scan``, all behind ``Authorization: Bearer <key>``.
Switches: ``fail_page`` (stall past the client's timeout, answer an HTTP status or a
garbage body, once or every time) and ``set_metadata`` (change a field on ABS's side).
"""

from __future__ import annotations

import copy
import json
import math
import re
import threading
import time
from contextlib import contextmanager

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

API_KEY = "abs-test-key-5f0e0c1d2b3a"
# What a timed-out page costs: the client gives up after CLIENT_TIMEOUT, the server stalls longer.
CLIENT_TIMEOUT = 0.3
STALL_SECONDS = 0.8
SEQUENCES = ("1", "2", "3", "3.5", "4", "5", "6-8", None)

_ITEMS = re.compile(r"^/api/libraries/(?P<library>[^/]+)/items$")
_SCAN = re.compile(r"^/api/libraries/(?P<library>[^/]+)/scan$")
_MEDIA = re.compile(r"^/api/items/(?P<item>[^/]+)/media$")


def author_name(index: int) -> str:
    """Each series of 8 items has one author; authors write several series."""
    return f"Ada Writer{(index // 8) % 97}"


def narrator_name(index: int) -> str:
    return f"Nia Voice{index % 53}"


def make_item(index: int, library_id: str) -> dict:
    """Item ``index``: a title, one author (two for every 10th), narrators, a series place, identifiers."""
    authors = [{"id": f"aut_{(index // 8) % 97}", "name": author_name(index)}]
    if index % 10 == 9:
        authors.append({"id": f"aut_co_{index % 11}", "name": f"Cole Partner{index % 11}"})
    narrators = [narrator_name(index)] + ([f"Otto Reader{index % 5}"] if index % 7 == 0 else [])
    sequence = SEQUENCES[index % len(SEQUENCES)]
    series = (
        [] if sequence is None else [{"id": f"ser_{index // 8}", "name": f"Saga {index // 8}", "sequence": sequence}]
    )
    title = f"The Tale of Item {index}"
    folder = f"{authors[0]['name']}/{series[0]['name'] if series else 'Standalone'}/{title}"
    metadata = {
        "title": title,
        "titleIgnorePrefix": f"Tale of Item {index}, The",
        "subtitle": None,
        "authors": authors,
        "narrators": narrators,
        "series": series,
        "genres": ["Fantasy"],
        "publishedYear": str(1980 + index % 40),
        "publishedDate": None,
        "publisher": "Fake House",
        "description": f"The story of item {index}.",
        "isbn": f"978{index:010d}",
        "asin": f"B{index:09d}",
        "language": "English",
        "explicit": False,
        "abridged": False,
    }
    _flatten(metadata)
    return {
        "id": f"li_{index:05d}",
        "ino": str(100000 + index),
        "libraryId": library_id,
        "folderId": f"fol_{library_id}",
        "path": f"/audiobooks/{folder}",
        "relPath": folder,
        "isFile": False,
        "mtimeMs": 1700000000000 + index,
        "ctimeMs": 1700000000000 + index,
        "birthtimeMs": 1700000000000 + index,
        "addedAt": 1700000000000 + index,
        "updatedAt": 1700000000000 + index,
        "isMissing": False,
        "isInvalid": False,
        "mediaType": "book",
        "media": {
            "id": f"book_{index:05d}",
            "libraryItemId": f"li_{index:05d}",
            "metadata": metadata,
            "coverPath": None,
            "tags": [],
            "audioFiles": [],
            "chapters": [],
            "duration": 3600.4 + index,
            "size": 50_000_000 + index,
            "ebookFile": None,
        },
        "libraryFiles": [],
        "size": 50_000_000 + index,
    }


def _flatten(metadata: dict) -> None:
    """The flat name fields ABS derives from the arrays."""
    metadata["authorName"] = ", ".join(author["name"] for author in metadata["authors"])
    metadata["authorNameLF"] = ", ".join(
        "{1}, {0}".format(*author["name"].rsplit(" ", 1)) for author in metadata["authors"]
    )
    metadata["narratorName"] = ", ".join(metadata["narrators"])
    metadata["seriesName"] = ", ".join(
        f"{entry['name']} #{entry['sequence']}" if entry.get("sequence") else entry["name"]
        for entry in metadata["series"]
    )


class FakeAudiobookshelf:
    """The fake's state: libraries, their items, failures to stage and what was received."""

    def __init__(self, server: HTTPServer, *, items: int = 1200, libraries: int = 3, api_key: str = API_KEY):
        self.server = server
        self.api_key = api_key
        self.libraries = [
            {
                "id": f"lib_{number}",
                "name": f"Audiobooks {number}",
                "folders": [
                    {"id": f"fol_lib_{number}", "fullPath": f"/audiobooks{number}", "libraryId": f"lib_{number}"}
                ],
                "displayOrder": number,
                "icon": "audiobookshelf",
                "mediaType": "book",
                "provider": "audible",
                "settings": {"coverAspectRatio": 1, "disableWatcher": False},
                "createdAt": 1700000000000,
                "lastUpdate": 1700000000000,
            }
            for number in range(1, libraries + 1)
        ]
        self.items: dict[str, list[dict]] = {library["id"]: [] for library in self.libraries}
        for index in range(items):
            library_id = self.libraries[index * libraries // items]["id"] if items else ""
            self.items[library_id].append(make_item(index, library_id))
        self.by_id = {item["id"]: item for entries in self.items.values() for item in entries}
        self.failures: dict[tuple[str, int], list] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.patches: list[tuple[str, dict]] = []
        self.scans: list[str] = []
        self._lock = threading.Lock()
        self._install()

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    # --- switches -----------------------------------------------------------------------

    def fail_page(self, library_id: str, page: int, *, mode="timeout", times: float = 1) -> None:
        """Make a page fail ``times`` times (``math.inf``: always) by ``mode``: "timeout", "garbage" or a status."""
        self.failures[(library_id, page)] = [mode, times]

    def set_metadata(self, item_id: str, **changes) -> None:
        """Change fields of an item's ``media.metadata`` as a person would in ABS."""
        metadata = self.by_id[item_id]["media"]["metadata"]
        metadata.update(changes)
        _flatten(metadata)

    def add_library(self, *, media_type: str) -> str:
        number = len(self.libraries) + 1
        library = {"id": f"lib_{number}", "name": f"Podcasts {number}", "mediaType": media_type, "folders": []}
        self.libraries.append(library)
        self.items[library["id"]] = []
        return library["id"]

    def item_requests(self, library_id: str) -> list[dict]:
        return [query for method, path, query in self.requests if path == f"/api/libraries/{library_id}/items"]

    # --- handlers -----------------------------------------------------------------------

    def _install(self) -> None:
        self.server.expect_request("/api/libraries", method="GET").respond_with_handler(self._guard(self._libraries))
        self.server.expect_request(_ITEMS, method="GET").respond_with_handler(self._guard(self._items))
        self.server.expect_request(_MEDIA, method="PATCH").respond_with_handler(self._guard(self._patch))
        self.server.expect_request(_SCAN, method="POST").respond_with_handler(self._guard(self._scan))

    def _guard(self, handler):
        def guarded(request: Request) -> Response:
            with self._lock:
                self.requests.append((request.method, request.path, dict(request.args)))
            if request.headers.get("Authorization") != f"Bearer {self.api_key}":
                return Response("Unauthorized", status=401, content_type="text/plain")
            return handler(request)

        return guarded

    def _libraries(self, request: Request) -> Response:
        return _json({"libraries": self.libraries})

    def _items(self, request: Request) -> Response:
        library_id = _ITEMS.match(request.path)["library"]
        if library_id not in self.items:
            return Response("Not Found", status=404, content_type="text/plain")
        limit = int(request.args.get("limit", 0))
        page = int(request.args.get("page", 0))
        failure = self._take_failure(library_id, page)
        if failure == "timeout":
            time.sleep(STALL_SECONDS)
        elif failure == "garbage":
            return Response("<html><body>Bad Gateway</body></html>", status=200, content_type="text/html")
        elif failure is not None:
            return Response("Server error", status=failure, content_type="text/plain")
        entries = self.items[library_id]
        results = entries[page * limit : (page + 1) * limit] if limit else entries
        return _json(
            {
                "results": results,
                "total": len(entries),
                "limit": limit,
                "page": page,
                "sortBy": request.args.get("sort"),
                "sortDesc": request.args.get("desc") == "1",
                "filterBy": None,
                "mediaType": "book",
                "minified": False,
                "collapseseries": False,
                "include": "",
                "offset": page * limit,
            }
        )

    def _take_failure(self, library_id: str, page: int):
        with self._lock:
            failure = self.failures.get((library_id, page))
            if not failure or failure[1] <= 0:
                return None
            failure[1] -= 1
            return failure[0]

    def _patch(self, request: Request) -> Response:
        item_id = _MEDIA.match(request.path)["item"]
        item = self.by_id.get(item_id)
        if item is None:
            return Response("Not Found", status=404, content_type="text/plain")
        body = json.loads(request.get_data(as_text=True) or "{}")
        self.patches.append((item_id, body))
        metadata = copy.deepcopy(body.get("metadata") or {})
        for key in ("authors", "series"):
            for index, entry in enumerate(metadata.get(key) or []):
                if str(entry.get("id", "")).startswith("new"):
                    entry["id"] = f"{key}_created_{item_id}_{index}"
        self.set_metadata(item_id, **metadata)
        return _json({"updated": True, "libraryItem": item})

    def _scan(self, request: Request) -> Response:
        library_id = _SCAN.match(request.path)["library"]
        if library_id not in self.items:
            return Response("Not Found", status=404, content_type="text/plain")
        self.scans.append(library_id)
        return Response("OK", status=200, content_type="text/plain")


def _json(payload) -> Response:
    return Response(json.dumps(payload), status=200, content_type="application/json")


@contextmanager
def fake_server():
    """A threaded HTTP server on 127.0.0.1 (stopping one takes half a second: share it per module)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@contextmanager
def running_fake(settings, server: HTTPServer, **options):
    """A fake ABS on ``server``, with the ABS settings pointed at it (short timeout, 2 retries)."""
    fake = FakeAudiobookshelf(server, **options)
    settings.ABS_URL = fake.url
    settings.ABS_API_KEY = fake.api_key
    settings.ABS_TIMEOUT = CLIENT_TIMEOUT
    settings.ABS_RETRIES = 2
    settings.ABS_PAGE_SIZE = 100
    settings.ABS_PUSH_METADATA = False
    try:
        yield fake
    finally:
        server.clear()


ALWAYS = math.inf
