"""Probable duplicate books: same ISBN, same ASIN, or nearly the same title by the same first author."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from rapidfuzz import fuzz

from library.choices import BookStatus
from library.models import Book, BookAuthor

_EDITION_NOISE = re.compile(r"[\(\[]\s*(?:un)?abridged(?:\s+edition)?\s*[\)\]]", re.I)
_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")
_NUMBERS = re.compile(r"\d+")


@dataclass(frozen=True)
class DuplicateGroup:
    """Books that are probably the same work, and why: ``reason`` is isbn, asin or title."""

    reason: str
    key: str
    book_ids: tuple[int, ...]


def normalise_title(title: str) -> str:
    """Lower case, no "(Unabridged)", no punctuation or accents, single spaces."""
    text = _EDITION_NOISE.sub(" ", title or "")
    text = unicodedata.normalize("NFKD", text).casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _PUNCTUATION.sub(" ", text).replace("_", " ")
    return _SPACES.sub(" ", text).strip()


def titles_match(first: str, second: str, threshold: int) -> bool:
    """Normalised titles at least ``threshold`` similar and naming the same numbers.

    The number check keeps "Saga Book 1" and "Saga Book 2" apart although they differ by
    one character.
    """
    if not first or not second:
        return False
    if _NUMBERS.findall(first) != _NUMBERS.findall(second):
        return False
    return fuzz.ratio(first, second) >= threshold


def book_duplicate_groups(*, threshold: int | None = None) -> list[DuplicateGroup]:
    """Groups of probable duplicates among active books (two queries, grouping in Python).

    Identifier groups come first (ISBN, then ASIN, by value), then title groups by first
    author; within a group books are ordered by id (the oldest first).
    """
    threshold = settings.DUPLICATE_TITLE_THRESHOLD if threshold is None else threshold
    rows = list(Book.objects.filter(status=BookStatus.ACTIVE).order_by("id").values_list("id", "title", "isbn", "asin"))
    by_isbn: dict[str, list[int]] = defaultdict(list)
    by_asin: dict[str, list[int]] = defaultdict(list)
    titles: dict[int, str] = {}
    for book_id, title, isbn, asin in rows:
        if isbn:
            by_isbn[isbn].append(book_id)
        if asin:
            by_asin[asin.upper()].append(book_id)
        titles[book_id] = normalise_title(title)

    groups = [DuplicateGroup("isbn", key, tuple(ids)) for key, ids in sorted(by_isbn.items()) if len(ids) > 1]
    groups += [DuplicateGroup("asin", key, tuple(ids)) for key, ids in sorted(by_asin.items()) if len(ids) > 1]
    groups += _title_groups(titles, _first_authors(), threshold)
    return groups


def _first_authors() -> dict[int, int]:
    """Book id → id of its first author, for active books."""
    first: dict[int, int] = {}
    links = (
        BookAuthor.objects.filter(book__status=BookStatus.ACTIVE)
        .order_by("book_id", "position", "id")
        .values_list("book_id", "author_id")
    )
    for book_id, author_id in links:
        first.setdefault(book_id, author_id)
    return first


def _title_groups(titles: dict[int, str], first_authors: dict[int, int], threshold: int) -> list[DuplicateGroup]:
    by_author: dict[int, list[int]] = defaultdict(list)
    for book_id, author_id in first_authors.items():
        by_author[author_id].append(book_id)
    groups = []
    for author_id in sorted(by_author):
        book_ids = sorted(by_author[author_id])
        # Union-find over the author's books: a chain of close titles forms one group.
        parent = {book_id: book_id for book_id in book_ids}

        def root(node: int, parent=parent) -> int:
            while parent[node] != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        for index, first in enumerate(book_ids):
            for second in book_ids[index + 1 :]:
                if root(first) != root(second) and titles_match(titles[first], titles[second], threshold):
                    parent[root(second)] = root(first)
        members: dict[int, list[int]] = defaultdict(list)
        for book_id in book_ids:
            members[root(book_id)].append(book_id)
        for ids in members.values():
            if len(ids) > 1:
                groups.append(DuplicateGroup("title", f"{author_id}:{titles[ids[0]]}", tuple(ids)))
    return groups
