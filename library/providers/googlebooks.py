"""Google Books (``/books/v1/volumes``): volumes by ISBN, by title and author, by author.

The key (``GOOGLE_BOOKS_API_KEY``) is optional and sent as ``key=`` when set.  Google
Books knows no series, so it cannot answer series questions.
"""

from __future__ import annotations

from django.conf import settings

from library.naming import clean
from library.providers.base import BookRecord, MetadataProvider, ProviderClient
from library.providers.parsing import isbn_digits, isbn_list, language, names, plain_text, published

VOLUMES = "/books/v1/volumes"
MAX_RESULTS = 20
AUTHOR_MAX_RESULTS = 40


def _quoted(text: str) -> str:
    return '"' + clean(text).replace('"', " ") + '"'


class GoogleBooksProvider(MetadataProvider):
    name = "googlebooks"
    service = "Google Books"
    url_setting = "GOOGLE_BOOKS_URL"

    def make_client(self) -> ProviderClient:
        key = settings.GOOGLE_BOOKS_API_KEY
        return ProviderClient(
            service=self.service,
            credentials_hint="check GOOGLE_BOOKS_API_KEY",
            base_url=self.url(),
            secrets=[key] if key else [],
        )

    def _volumes(self, query: str, limit: int) -> dict:
        params = {"q": query, "maxResults": limit, "printType": "books"}
        if settings.GOOGLE_BOOKS_API_KEY:
            params["key"] = settings.GOOGLE_BOOKS_API_KEY
        return self.client.get_json(VOLUMES, params=params)

    def fetch_isbn(self, *, isbn: str) -> dict:
        return self._volumes(f"isbn:{isbn}", MAX_RESULTS)

    def parse_isbn(self, payload: dict, *, isbn: str) -> list[BookRecord]:
        records = self._records(payload)
        # Google sometimes adds near matches; keep the volumes carrying the ISBN asked for.
        exact = [record for record in records if isbn_digits(isbn) in record.isbns]
        return (exact or records)[:1]

    def fetch_search(self, *, title: str, author: str = "") -> dict:
        query = f"intitle:{_quoted(title)}" + (f" inauthor:{_quoted(author)}" if author else "")
        return self._volumes(query, MAX_RESULTS)

    def parse_search(self, payload: dict, **params) -> list[BookRecord]:
        return self._records(payload)

    def fetch_author_books(self, *, author: str) -> dict:
        return self._volumes(f"inauthor:{_quoted(author)}", AUTHOR_MAX_RESULTS)

    def parse_author_books(self, payload: dict, **params) -> list[BookRecord]:
        return self._records(payload)

    def _records(self, payload: dict) -> list[BookRecord]:
        records = []
        for item in payload.get("items") or []:
            info = item.get("volumeInfo") or {}
            title = clean(info.get("title") or "")
            if not title:
                continue
            isbns = isbn_list(
                entry.get("identifier", "")
                for entry in info.get("industryIdentifiers") or []
                if entry.get("type") in ("ISBN_13", "ISBN_10")
            )
            year, day = published(info.get("publishedDate"))
            records.append(
                BookRecord(
                    provider=self.name,
                    title=title,
                    subtitle=clean(info.get("subtitle") or ""),
                    authors=names(info.get("authors")),
                    isbn=next(iter(isbns), ""),
                    isbns=isbns,
                    publisher=clean(info.get("publisher") or ""),
                    published_year=year,
                    published_date=day,
                    language=language(info.get("language")),
                    description=plain_text(info.get("description") or ""),
                    page_count=info.get("pageCount"),
                    identifiers={"google": item["id"]} if item.get("id") else {},
                )
            )
        return records
