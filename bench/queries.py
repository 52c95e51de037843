"""SQL queries per request of every API list endpoint, for a page of 3 and of 30 rows (SPEC §12).

Walks the URLconf (as ``tests/api/test_tiers.py`` does) for the GET routes of the API, asks
each for ``?limit=3`` and ``?limit=30`` as an admin with an API key, and keeps the ones that
answer a paginated page (``results``). Routes with an ``{id}`` get the id of the object with
the most rows behind it (the author with the most books, the series with the most entries).
A list whose count differs between the two pages is flagged; so is one that has fewer than
30 rows to show (the comparison then proves less).

Used by ``bench.load`` on the generated library; ``measure()`` returns the rows of the table.
"""

from __future__ import annotations

import re

PAGE_SIZES = (3, 30)
# Query parameters some lists cannot do without.
REQUIRED = {"/api/v1/books/search/": {"q": "city"}}
_PARAM = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _walk(patterns, prefix="/"):
    from django.urls import URLPattern, URLResolver

    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^").rstrip("$").replace("\\", "")
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def get_routes() -> list[tuple[str, object]]:
    """``(route, callback)`` of every API GET route that is not a single object's detail."""
    from django.urls import get_resolver

    routes = {}
    for route, callback in _walk(get_resolver().url_patterns):
        if not route.startswith("/api/v1/") or "format" in route or getattr(callback, "cls", None) is None:
            continue
        actions = getattr(callback, "actions", None)
        if actions is not None:
            action = actions.get("get")
            if action is None or action == "retrieve":
                continue
        elif not hasattr(callback.cls, "get"):
            continue
        routes[route] = callback
    return sorted(routes.items())


def _ids() -> dict[str, str]:
    """An id per path parameter: the objects with the most rows behind them."""
    from django.db.models import Count

    from library.models import Author, Book, Series

    author = Author.objects.annotate(n=Count("book_links")).order_by("-n", "id").values_list("id", flat=True).first()
    series = Series.objects.annotate(n=Count("entries")).order_by("-n", "id").values_list("id", flat=True).first()
    book = Book.objects.order_by("id").values_list("id", flat=True).first()
    return {"/authors/": str(author), "/series/": str(series), "/books/": str(book)}


def _path(route: str, ids: dict[str, str]) -> str | None:
    if not _PARAM.search(route):
        return route
    if route.count("(?P<") > 1:
        return None
    for prefix, value in ids.items():
        if f"/api/v1{prefix}" in route and value != "None":
            return _PARAM.sub(value, route)
    return None


def measure(secret: str) -> list[dict]:
    """Queries at each page size for every paginated GET route; ``secret`` is an admin API key."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_X_API_KEY=secret)
    ids = _ids()
    rows = []
    for route, _callback in get_routes():
        path = _path(route, ids)
        if path is None:
            continue
        counts, sizes = [], []
        client.get(path, {"limit": 1, **REQUIRED.get(route, {})})  # warm: key last-use stamp, caches
        for limit in PAGE_SIZES:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path, {"limit": limit, **REQUIRED.get(route, {})})
            json_body = not response.streaming and response.get("Content-Type", "").startswith("application/json")
            body = response.json() if response.status_code == 200 and json_body else None
            if not isinstance(body, dict) or "results" not in body:
                break
            counts.append(len(captured))
            sizes.append(len(body["results"]))
        if len(counts) != len(PAGE_SIZES):
            continue
        flags = []
        if len(set(counts)) > 1:
            flags.append("DIFFERS")
        if sizes[-1] < PAGE_SIZES[-1]:
            flags.append(f"only {sizes[-1]} rows")
        counted = dict(zip(map(str, PAGE_SIZES), counts, strict=True))
        rows.append({"path": path, "queries": counted, "rows": sizes, "flags": flags})
    return rows


def print_table(rows: list[dict], vendor: str) -> None:
    print(f"\nSQL queries per list request, page of 3 and of 30 rows ({vendor})")
    print(f"{'endpoint':<52} {'q@3':>5} {'q@30':>5} {'rows':>9}  flag")
    for row in rows:
        counts = row["queries"]
        shown = f"{row['rows'][0]}/{row['rows'][-1]}"
        print(f"{row['path']:<52} {counts['3']:>5} {counts['30']:>5} {shown:>9}  {', '.join(row['flags'])}")
    differing = [row["path"] for row in rows if "DIFFERS" in row["flags"]]
    print(f"{len(rows)} list endpoints; " + (f"DIFFERING: {', '.join(differing)}" if differing else "all constant."))
