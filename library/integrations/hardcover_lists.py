"""Hardcover's "want to read" list (SPEC §9), for the ``import_lists`` job.

One GraphQL query, ``me { user_books(where: {status_id: {_eq: 1}}) { book { … } } }``, sent
through the metadata provider's plumbing (``HARDCOVER_URL``, ``Authorization: Bearer
<HARDCOVER_TOKEN>``, answers with ``errors`` turned into ``ExternalApiError``) with the
import lists' timeout.  ``me`` is a list (of the one user the token belongs to).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from django.conf import settings

from library.naming import clean
from library.providers.base import BookRecord, ProviderClient
from library.providers.hardcover import HardcoverProvider
from library.providers.parsing import isbn_list, names, published
from mamcrawler.api.exceptions import ExternalApiError

WANT_TO_READ = 1  # Hardcover's user_book status ids: 1 want to read, 2 reading, 3 read, …

WANT_TO_READ_QUERY = """
query WantToRead {
  me {
    user_books(where: {status_id: {_eq: 1}}) {
      book {
        id
        title
        subtitle
        release_date
        contributions { contribution author { name } }
        editions { isbn_13 isbn_10 asin }
      }
    }
  }
}
"""

# A contribution without a role (or "Author") is the author's; narrators, translators and
# illustrators carry their role, in several languages ("Narrator", "Sprecher").
_AUTHOR_ROLES = {"", "author"}


@dataclass
class HardcoverBook(BookRecord):
    """A book on the list: a ``BookRecord`` plus the ASINs of all its editions (``asin`` is the first)."""

    asins: list[str] = field(default_factory=list)


def hardcover_lists_configured() -> bool:
    return bool(settings.HARDCOVER_URL and HardcoverProvider.token())


class HardcoverLists(HardcoverProvider):
    """The provider's GraphQL client, with ``IMPORT_LISTS_TIMEOUT`` instead of the providers' timeout."""

    def make_client(self) -> ProviderClient:
        client = super().make_client()
        client._client.timeout = httpx.Timeout(settings.IMPORT_LISTS_TIMEOUT)
        return client

    def want_to_read(self) -> list[HardcoverBook]:
        """The books on the token's user's "want to read" list."""
        if not self.is_configured():
            raise ExternalApiError(
                f"{self.service} is not configured: set HARDCOVER_TOKEN.", service=self.service, retryable=False
            )
        data = self.graphql(WANT_TO_READ_QUERY)
        users = data.get("me")
        if isinstance(users, dict):  # tolerate an object where the API documents a list
            users = [users]
        if not isinstance(users, list):
            raise self._failure("answered without the 'me' list", retryable=False)
        books = []
        for user in users:
            for entry in (user or {}).get("user_books") or []:
                book = _book((entry or {}).get("book") or {})
                if book is not None:
                    books.append(book)
        return books


def _book(book: dict) -> HardcoverBook | None:
    title = clean(book.get("title") or "")
    if not title:
        return None
    contributions = [entry for entry in book.get("contributions") or [] if isinstance(entry, dict)]
    credited = [entry for entry in contributions if clean(entry.get("contribution") or "").lower() in _AUTHOR_ROLES]
    authors = names((entry.get("author") or {}).get("name", "") for entry in credited or contributions)
    editions = [edition for edition in book.get("editions") or [] if isinstance(edition, dict)]
    isbns = isbn_list(value for edition in editions for value in (edition.get("isbn_13"), edition.get("isbn_10")))
    asins = [asin for asin in dict.fromkeys(clean(edition.get("asin") or "").upper() for edition in editions) if asin]
    year, day = published(book.get("release_date"))
    return HardcoverBook(
        provider="hardcover",
        title=title,
        subtitle=clean(book.get("subtitle") or ""),
        authors=authors,
        isbn=isbns[0] if isbns else "",
        isbns=isbns,
        asin=asins[0] if asins else "",
        asins=asins,
        published_year=year,
        published_date=day,
        identifiers={"hardcover": str(book["id"])} if book.get("id") else {},
    )
