"""Hardcover (GraphQL, https://api.hardcover.app/v1/graphql): books by ISBN or title, series, authors.

Every request is a POST of ``{"query", "variables"}`` with ``Authorization: Bearer
<HARDCOVER_TOKEN>`` (a token pasted with its "Bearer " prefix works too).  An answer with
``errors`` is a failure like any HTTP error.  All the queries live in this module.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from rapidfuzz import fuzz

from library.naming import clean, name_key, person_key
from library.providers.base import BookRecord, MetadataProvider, ProviderClient
from library.providers.parsing import isbn_digits, isbn_list, member, names, plain_text, position_label, published
from mamcrawler.api.exceptions import ExternalApiError

AUTHOR_MATCH = 85  # rapidfuzz ratio of normalised names above which a contributor is "the" author

_BOOK_FIELDS = """
      id
      title
      subtitle
      release_date
      description
      contributions { author { name } }
      book_series { position series { name } }
"""

BOOK_BY_ISBN = (
    """
query BookByIsbn($isbn: String!) {
  editions(where: {_or: [{isbn_13: {_eq: $isbn}}, {isbn_10: {_eq: $isbn}}]}, limit: 5) {
    isbn_13
    isbn_10
    asin
    title
    release_date
    audio_seconds
    publisher { name }
    book {"""
    + _BOOK_FIELDS
    + """    }
  }
}
"""
)

BOOKS_BY_TITLE = (
    """
query BooksByTitle($title: String!) {
  books(where: {title: {_eq: $title}}, limit: 20) {"""
    + _BOOK_FIELDS
    + """  }
}
"""
)

SERIES_BY_NAME = """
query SeriesByName($name: String!) {
  series(where: {name: {_eq: $name}}, limit: 10) {
    id
    name
    books_count
    book_series(order_by: {position: asc}) {
      position
      book { id title release_date contributions { author { name } } }
    }
  }
}
"""

AUTHOR_BOOKS = """
query AuthorBooks($name: String!) {
  authors(where: {name: {_eq: $name}}, limit: 5) {
    id
    name
    contributions {
      book { id title release_date book_series { position series { name } } }
    }
  }
}
"""


def _authors(book: dict) -> list[str]:
    return names((entry.get("author") or {}).get("name", "") for entry in book.get("contributions") or [])


def _same_author(wanted: str, candidates: list[str]) -> bool:
    key = person_key(wanted)
    return any(fuzz.ratio(key, person_key(name)) >= AUTHOR_MATCH for name in candidates)


def _primary_series(book: dict) -> tuple[str, str]:
    for entry in book.get("book_series") or []:
        label = position_label(entry.get("position"))
        name = clean((entry.get("series") or {}).get("name") or "")
        if name and label:
            return name, label
    return "", ""


class HardcoverProvider(MetadataProvider):
    name = "hardcover"
    service = "Hardcover"
    url_setting = "HARDCOVER_URL"

    @staticmethod
    def token() -> str:
        token = clean(settings.HARDCOVER_TOKEN or "")
        return token[7:].strip() if token.lower().startswith("bearer ") else token

    def is_configured(self) -> bool:
        return bool(self.url() and self.token())

    def _endpoint(self) -> tuple[str, str]:
        """The origin and the path of HARDCOVER_URL (posting to the base itself would add a slash)."""
        parts = urlsplit(self.url())
        return urlunsplit((parts.scheme, parts.netloc, "", "", "")), parts.path or "/"

    def make_client(self) -> ProviderClient:
        token = self.token()
        return ProviderClient(
            service=self.service,
            credentials_hint="check HARDCOVER_TOKEN (the API token from hardcover.app/account/api)",
            base_url=self._endpoint()[0],
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            secrets=[token],
        )

    def graphql(self, query: str, **variables) -> dict:
        """POST one query; its ``data``, or ``ExternalApiError`` when the answer carries errors."""
        body: Any = self.client.request_json("POST", self._endpoint()[1], json={"query": query, "variables": variables})
        if not isinstance(body, dict):
            raise self._failure("answered with JSON that is not an object")
        errors = body.get("errors") or ([{"message": body["error"]}] if body.get("error") else [])
        if errors:
            messages = "; ".join(
                str(error.get("message") if isinstance(error, dict) else error) for error in errors[:3]
            )
            raise self._failure(f"rejected the query: {messages}", retryable=False)
        data = body.get("data")
        if not isinstance(data, dict):
            raise self._failure("answered without data")
        return data

    def _failure(self, text: str, *, retryable: bool = True) -> ExternalApiError:
        return ExternalApiError(f"{self.service} {text}."[:500], service=self.service, retryable=retryable)

    # --- books -------------------------------------------------------------------------

    def fetch_isbn(self, *, isbn: str) -> dict:
        return self.graphql(BOOK_BY_ISBN, isbn=isbn)

    def parse_isbn(self, payload: dict, *, isbn: str) -> list[BookRecord]:
        for edition in payload.get("editions") or []:
            book = edition.get("book") or {}
            record = self._record(book, edition=edition)
            if record:
                if not record.isbn:
                    record.isbn = isbn_digits(isbn)
                return [record]
        return []

    def fetch_search(self, *, title: str, author: str = "") -> dict:
        return self.graphql(BOOKS_BY_TITLE, title=clean(title))

    def parse_search(self, payload: dict, *, title: str, author: str = "") -> list[BookRecord]:
        records = [record for record in map(self._record, payload.get("books") or []) if record]
        if author:
            records = [record for record in records if _same_author(author, record.authors)]
        return records

    def _record(self, book: dict, edition: dict | None = None) -> BookRecord | None:
        edition = edition or {}
        title = clean(book.get("title") or edition.get("title") or "")
        if not title:
            return None
        series_name, position = _primary_series(book)
        year, day = published(edition.get("release_date") or book.get("release_date"))
        isbns = isbn_list([edition.get("isbn_13"), edition.get("isbn_10")])
        seconds = edition.get("audio_seconds")
        return BookRecord(
            provider=self.name,
            title=title,
            subtitle=clean(book.get("subtitle") or ""),
            authors=_authors(book),
            series_name=series_name,
            series_position=position,
            isbn=isbns[0] if isbns else "",
            isbns=isbns,
            asin=clean(edition.get("asin") or "").upper(),
            publisher=clean((edition.get("publisher") or {}).get("name") or ""),
            published_year=year,
            published_date=day,
            description=plain_text(book.get("description") or ""),
            duration_seconds=int(seconds) if seconds else None,
            identifiers={"hardcover": str(book["id"])} if book.get("id") else {},
        )

    # --- series ------------------------------------------------------------------------

    def fetch_series(self, *, series_name: str, author: str = "") -> dict:
        return self.graphql(SERIES_BY_NAME, name=clean(series_name))

    def parse_series(self, payload: dict, *, series_name: str, author: str = ""):
        found = payload.get("series") or []
        if author:
            # Several series share a name: keep those where the author wrote a member.
            by_author = [
                series
                for series in found
                if any(
                    _same_author(author, _authors(entry.get("book") or {})) for entry in series.get("book_series") or []
                )
            ]
            found = by_author or found
        members, seen = [], set()
        for series in found:
            for entry in series.get("book_series") or []:
                book = entry.get("book") or {}
                year, day = published(book.get("release_date"))
                item = member(
                    self.name,
                    book.get("title") or "",
                    entry.get("position"),
                    authors=_authors(book),
                    published_date=day,
                    published_year=year,
                    identifiers={"hardcover": str(book["id"])} if book.get("id") else {},
                    series_name=clean(series.get("name") or series_name),
                )
                if item and item.title and (item.position_label, name_key(item.title)) not in seen:
                    seen.add((item.position_label, name_key(item.title)))
                    members.append(item)
        return sorted(members, key=lambda entry: entry.position)

    # --- an author's books -------------------------------------------------------------

    def fetch_author_books(self, *, author: str) -> dict:
        return self.graphql(AUTHOR_BOOKS, name=clean(author))

    def parse_author_books(self, payload: dict, *, author: str) -> list[BookRecord]:
        records, seen = [], set()
        for person in payload.get("authors") or []:
            name = names([person.get("name") or author])
            for contribution in person.get("contributions") or []:
                book = contribution.get("book") or {}
                title = clean(book.get("title") or "")
                if not title or name_key(title) in seen:
                    continue
                seen.add(name_key(title))
                series_name, position = _primary_series(book)
                year, day = published(book.get("release_date"))
                records.append(
                    BookRecord(
                        provider=self.name,
                        title=title,
                        authors=list(name),
                        series_name=series_name,
                        series_position=position,
                        published_year=year,
                        published_date=day,
                        identifiers={"hardcover": str(book["id"])} if book.get("id") else {},
                    )
                )
        return records
