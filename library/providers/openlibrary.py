"""OpenLibrary (https://openlibrary.org): editions by ISBN, works, search, authors' works.

No key.  ``/isbn/{isbn}.json`` redirects to the edition (``/books/OL…M.json``), which names
its work and authors only by key, so an ISBN lookup also reads the work (description) and
up to three authors (names).  Series data is weak: a search for the series name, kept
only where a document carries a ``series`` field naming it.
"""

from __future__ import annotations

import re

from library.naming import clean, name_key, person_key
from library.providers.base import BookRecord, MetadataProvider, NotFoundAnswer, ProviderClient
from library.providers.parsing import best_isbn, isbn_digits, isbn_list, language, member, names, plain_text, published

SEARCH_FIELDS = "key,title,subtitle,author_name,isbn,first_publish_year,publisher,language,series"
SEARCH_LIMIT = 20
SERIES_LIMIT = 50
WORKS_LIMIT = 200
MAX_AUTHORS = 3

_WORK_KEY = re.compile(r"^/works/OL\d+W$")
_AUTHOR_KEY = re.compile(r"^/authors/OL\d+A$")
_AUTHOR_ID = re.compile(r"^OL\d+A$")
# "The Stormlight Archive ; 1", "Stormlight Archive, #2", "Discworld (41)", "Mistborn, book 3"
_SERIES = re.compile(
    r"^(?P<name>.+?)\s*(?:;|,|\(|#|\bbook\b|\bvol(?:ume)?\.?)\s*(?:#|\bbook\b|\bno\.?)?\s*"
    r"(?P<position>\d{1,4}(?:\.\d{1,3})?(?:\s*-\s*\d{1,4}(?:\.\d{1,3})?)?)\s*\)?\s*$",
    re.I,
)


def split_series(text: str) -> tuple[str, str]:
    """``("The Stormlight Archive", "1")`` from "The Stormlight Archive ; 1"; no position → ``(text, "")``."""
    match = _SERIES.match(clean(text))
    if not match:
        return clean(text), ""
    return match["name"].strip(" ,;#("), re.sub(r"\s+", "", match["position"])


def _series_key(name: str) -> str:
    return re.sub(r"^the ", "", name_key(name))


def _work_id(key: str) -> str:
    return (key or "").rstrip("/").rsplit("/", 1)[-1]


class OpenLibraryProvider(MetadataProvider):
    name = "openlibrary"
    service = "OpenLibrary"
    url_setting = "OPENLIBRARY_URL"

    def make_client(self) -> ProviderClient:
        return ProviderClient(service=self.service, base_url=self.url(), follow_redirects=True)

    # --- ISBN --------------------------------------------------------------------------

    def fetch_isbn(self, *, isbn: str) -> dict:
        edition = self.client.get_json(f"/isbn/{isbn}.json", missing_ok=True)
        work = None
        work_keys = [entry.get("key", "") for entry in edition.get("works") or []]
        if work_keys and _WORK_KEY.match(work_keys[0]):
            try:
                work = self.client.get_json(f"{work_keys[0]}.json", missing_ok=True)
            except NotFoundAnswer:
                work = None
        author_keys = [entry.get("key", "") for entry in edition.get("authors") or []] or [
            (entry.get("author") or {}).get("key", "") for entry in (work or {}).get("authors") or []
        ]
        authors = []
        for key in [key for key in author_keys if _AUTHOR_KEY.match(key)][:MAX_AUTHORS]:
            try:
                authors.append(self.client.get_json(f"{key}.json", missing_ok=True))
            except NotFoundAnswer:
                continue
        return {"edition": edition, "work": work, "authors": authors}

    def parse_isbn(self, payload: dict, *, isbn: str) -> list[BookRecord]:
        edition, work = payload["edition"], payload.get("work") or {}
        title = clean(edition.get("title") or work.get("title") or "")
        if not title:
            return []
        year, day = published(edition.get("publish_date"))
        series_name, position = split_series((edition.get("series") or [""])[0])
        languages = edition.get("languages") or []
        isbns = isbn_list((edition.get("isbn_13") or []) + (edition.get("isbn_10") or []))
        work_key = ((edition.get("works") or [{}])[0]).get("key", "")
        identifiers = {"openlibrary": _work_id(work_key) or _work_id(edition.get("key", ""))}
        if edition.get("key"):
            identifiers["openlibrary_edition"] = _work_id(edition["key"])
        return [
            BookRecord(
                provider=self.name,
                title=title,
                subtitle=clean(edition.get("subtitle") or work.get("subtitle") or ""),
                authors=names(author.get("name", "") for author in payload.get("authors") or []),
                series_name=series_name if position else "",
                series_position=position,
                isbn=isbns[0] if isbns else isbn_digits(isbn),
                isbns=isbns,
                publisher=clean((edition.get("publishers") or [""])[0]),
                published_year=year,
                published_date=day,
                language=language(languages[0].get("key", "") if languages else ""),
                description=plain_text(edition.get("description") or work.get("description") or ""),
                page_count=edition.get("number_of_pages"),
                identifiers=identifiers,
            )
        ]

    # --- search ------------------------------------------------------------------------

    def fetch_search(self, *, title: str, author: str = "") -> dict:
        params = {"title": title, "fields": SEARCH_FIELDS, "limit": SEARCH_LIMIT}
        if author:
            params["author"] = author
        return self.client.get_json("/search.json", params=params)

    def parse_search(self, payload: dict, **params) -> list[BookRecord]:
        return [record for record in map(self._doc_record, payload.get("docs") or []) if record]

    def _doc_record(self, doc: dict) -> BookRecord | None:
        title = clean(doc.get("title") or "")
        if not title:
            return None
        series_name, position = split_series((doc.get("series") or [""])[0])
        return BookRecord(
            provider=self.name,
            title=title,
            subtitle=clean(doc.get("subtitle") or ""),
            authors=names(doc.get("author_name")),
            series_name=series_name if position else "",
            series_position=position,
            isbn=best_isbn(doc.get("isbn")),
            isbns=isbn_list(doc.get("isbn")),
            publisher=clean((doc.get("publisher") or [""])[0]),
            published_year=published(doc.get("first_publish_year"))[0],
            language=language((doc.get("language") or [""])[0]),
            identifiers={"openlibrary": _work_id(doc.get("key", ""))} if doc.get("key") else {},
        )

    # --- series ------------------------------------------------------------------------

    def fetch_series(self, *, series_name: str, author: str = "") -> dict:
        params = {"q": series_name, "fields": SEARCH_FIELDS, "limit": SERIES_LIMIT}
        if author:
            params["author"] = author
        return self.client.get_json("/search.json", params=params)

    def parse_series(self, payload: dict, *, series_name: str, author: str = ""):
        wanted = _series_key(series_name)
        members, seen = [], set()
        for doc in payload.get("docs") or []:
            for text in doc.get("series") or []:
                name, position = split_series(text)
                if not position or _series_key(name) != wanted:
                    continue
                found = member(
                    self.name,
                    doc.get("title") or "",
                    position,
                    authors=names(doc.get("author_name")),
                    isbn=best_isbn(doc.get("isbn")),
                    published_year=published(doc.get("first_publish_year"))[0],
                    language=language((doc.get("language") or [""])[0]),
                    identifiers={"openlibrary": _work_id(doc.get("key", ""))} if doc.get("key") else {},
                    series_name=clean(name),
                )
                if found and found.title and (found.position_label, name_key(found.title)) not in seen:
                    seen.add((found.position_label, name_key(found.title)))
                    members.append(found)
        return sorted(members, key=lambda entry: entry.position)

    # --- an author's works -------------------------------------------------------------

    def fetch_author_books(self, *, author: str) -> dict:
        found = self.client.get_json("/search/authors.json", params={"q": author})
        wanted = person_key(author)
        candidates = [doc for doc in found.get("docs") or [] if person_key(doc.get("name") or "") == wanted]
        candidates = [doc for doc in candidates if _AUTHOR_ID.match(doc.get("key") or "")]
        if not candidates:
            return {"author": None, "works": None}
        best = max(candidates, key=lambda doc: doc.get("work_count") or 0)
        works = self.client.get_json(f"/authors/{best['key']}/works.json", params={"limit": WORKS_LIMIT})
        return {"author": best, "works": works}

    def parse_author_books(self, payload: dict, *, author: str) -> list[BookRecord]:
        if not payload.get("author"):
            return []
        name = names([payload["author"].get("name") or author])
        records = []
        for entry in (payload.get("works") or {}).get("entries") or []:
            title = clean(entry.get("title") or "")
            if not title:
                continue
            year, day = published(entry.get("first_publish_date"))
            records.append(
                BookRecord(
                    provider=self.name,
                    title=title,
                    subtitle=clean(entry.get("subtitle") or ""),
                    authors=list(name),
                    published_year=year,
                    published_date=day,
                    description=plain_text(entry.get("description") or ""),
                    identifiers={"openlibrary": _work_id(entry.get("key", ""))} if entry.get("key") else {},
                )
            )
        return records
