"""Linking Audiobookshelf items to books: matching unlinked books, people caches, bulk creation."""

from __future__ import annotations

import posixpath
from collections import defaultdict
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Prefetch, Q

from library import naming
from library.choices import BookStatus
from library.models import Author, Book, BookAuthor, BookFile, Narrator, Series, SeriesEntry, book_completeness
from library.positions import Position
from library.selectors.duplicates import normalise_title
from library.services.abs_mapping import RELATIONS, AbsItem
from library.services.books import SeriesRef, _source_stamp
from library.services.completion import author_recalculate_many, series_recalculate_many
from library.services.people import author_get_or_create, narrator_get_or_create, series_get_or_create


class BookMatcher:
    """Finds unlinked books (``abs_id`` empty) for new ABS items; each book is claimed once per run."""

    def __init__(self):
        self.root = posixpath.normpath(settings.LIBRARY_ROOT) if settings.LIBRARY_ROOT else ""
        self._claimed: set[int] = set()
        self._index: dict[str, dict] | None = None

    def match(self, items: list[AbsItem]) -> dict[str, tuple[int, str]]:
        """``abs_id`` → ``(book id, how)`` with ``how`` one of path, isbn, asin, title_author."""
        found: dict[str, tuple[int, str]] = {}
        by_path = self._by_path(items)
        for item in items:
            choices = [("path", by_path.get(item.abs_id, []))]
            if not self._take(choices, found, item):
                index = self._load_index()
                title = normalise_title(item.fields["title"])
                author = naming.person_key(item.authors[0]) if item.authors else ""
                choices = [
                    ("isbn", index["isbn"].get(item.fields["isbn"], [])),
                    ("asin", index["asin"].get(item.fields["asin"], [])),
                    ("title_author", index["title"].get((title, author), []) if author else []),
                ]
                self._take(choices, found, item)
        return found

    def _take(self, choices, found: dict, item: AbsItem) -> bool:
        for how, book_ids in choices:
            for book_id in book_ids:
                if book_id not in self._claimed:
                    self._claimed.add(book_id)
                    found[item.abs_id] = (book_id, how)
                    return True
        return False

    def _candidate_paths(self, item: AbsItem) -> list[str]:
        """The item's folder (or file) as ABS sees it, and under our LIBRARY_ROOT."""
        paths = []
        if item.path.startswith("/"):
            paths.append(posixpath.normpath(item.path))
        rel = posixpath.normpath(item.rel_path.strip().lstrip("/")) if item.rel_path.strip() else ""
        # relPath comes from another system: never let it climb out of LIBRARY_ROOT.
        if rel and rel != "." and rel != ".." and not rel.startswith("../"):
            if self.root:
                paths.append(posixpath.join(self.root, rel))
            paths.append(rel)
        return [path for path in dict.fromkeys(paths) if path not in ("/", self.root)]

    def _by_path(self, items: list[AbsItem]) -> dict[str, list[int]]:
        wanted = {item.abs_id: self._candidate_paths(item) for item in items}
        paths = {path for candidates in wanted.values() for path in candidates}
        if not paths:
            return {}
        condition = reduce(or_, [Q(path__startswith=f"{path}/") for path in paths], Q(path__in=paths))
        rows = list(
            BookFile.objects.filter(condition, book__abs_id__isnull=True)
            .exclude(book__status=BookStatus.DUPLICATE)
            .values_list("path", "book_id")
        )
        found: dict[str, list[int]] = {}
        for abs_id, candidates in wanted.items():
            book_ids = sorted(
                {
                    book_id
                    for file_path, book_id in rows
                    for path in candidates
                    if file_path == path or file_path.startswith(f"{path}/")
                }
            )
            if book_ids:
                found[abs_id] = book_ids
        return found

    def _load_index(self) -> dict[str, dict]:
        """ISBN, ASIN and (title, first author) → unlinked book ids, active books first (two queries)."""
        if self._index is not None:
            return self._index
        unlinked = Book.objects.filter(abs_id__isnull=True).exclude(status=BookStatus.DUPLICATE)
        rows = sorted(
            unlinked.values_list("id", "title", "isbn", "asin", "status"),
            key=lambda row: (row[4] != BookStatus.ACTIVE, row[0]),
        )
        first_author: dict[int, str] = {}
        links = BookAuthor.objects.filter(book__in=unlinked).order_by("book_id", "position", "id")
        for book_id, key in links.values_list("book_id", "author__name_key"):
            first_author.setdefault(book_id, key)
        index: dict[str, dict] = {"isbn": defaultdict(list), "asin": defaultdict(list), "title": defaultdict(list)}
        for book_id, title, isbn, asin, _status in rows:
            if isbn:
                index["isbn"][isbn.replace("-", "").upper()].append(book_id)
            if asin:
                index["asin"][asin.upper()].append(book_id)
            if book_id in first_author:
                index["title"][(normalise_title(title), first_author[book_id])].append(book_id)
        self._index = index
        return index


# --- people and series, resolved once per run ----------------------------------------------


class PeopleCache:
    """Authors, narrators and series by normalised name, loaded per page and cached for the run."""

    def __init__(self):
        self.authors: dict[str, Author] = {}
        self.narrators: dict[str, Narrator] = {}
        self.series: dict[tuple[str, int | None], Series] = {}

    def preload(self, items: list[AbsItem]) -> None:
        """Load the people these items name in two queries."""
        author_keys = {naming.person_key(name) for item in items for name in item.authors}
        narrator_keys = {naming.person_key(name) for item in items for name in item.narrators}
        for cache, model, keys in (
            (self.authors, Author, author_keys),
            (self.narrators, Narrator, narrator_keys),
        ):
            missing = keys - cache.keys()
            if missing:
                cache.update({person.name_key: person for person in model.objects.filter(name_key__in=missing)})

    def forget(self) -> None:
        """Drop the caches (after a rollback some cached rows may no longer exist)."""
        self.authors.clear()
        self.narrators.clear()
        self.series.clear()

    def author(self, name: str) -> Author:
        key = naming.person_key(name)
        if key not in self.authors:
            self.authors[key] = author_get_or_create(name=name)
        return self.authors[key]

    def narrator(self, name: str) -> Narrator:
        key = naming.person_key(name)
        if key not in self.narrators:
            self.narrators[key] = narrator_get_or_create(name=name)
        return self.narrators[key]

    def series_refs(self, pairs: list[tuple[str, Position]], first_author: Author | None) -> list[SeriesRef]:
        refs = []
        for name, position in pairs:
            key = (naming.name_key(name), first_author.pk if first_author else None)
            if key not in self.series:
                self.series[key] = series_get_or_create(name=name, author=first_author)
            refs.append(SeriesRef(series=self.series[key], position=position))
        return refs


# --- creating many books at once ----------------------------------------------------------


def books_create_many(
    rows: list[tuple[AbsItem, list[Author], list[Narrator], list[SeriesRef]]], *, source: str
) -> list[Book]:
    """``book_create`` for a page of new books in a fixed number of queries.

    Same result as calling ``book_create(..., source=source)`` for each row: the book with
    ``abs_id``, ordered authors, narrators, series entries, series linked to the authors,
    every field stamped with the source, completeness, and the cached counts of the
    touched series and authors (recalculated once for the whole page).
    """
    stamp = _source_stamp(source)
    books = []
    for item, _authors, _narrators, _series in rows:
        fields = {**item.fields, "abs_id": item.abs_id}
        sources = {name: dict(stamp) for name in (*fields, *RELATIONS)}
        books.append(Book(**fields, metadata_sources=sources))
    Book.objects.bulk_create(books)

    narrator_link = Book.narrators.through
    book_authors, book_narrators, entries = [], [], []
    series_authors: dict[int, list[Author]] = defaultdict(list)
    for book, (_item, authors, narrators, series) in zip(books, rows, strict=True):
        book_authors += [BookAuthor(book=book, author=author, position=i) for i, author in enumerate(authors)]
        book_narrators += [narrator_link(book_id=book.pk, narrator_id=narrator.pk) for narrator in narrators]
        for ref in series:
            entries.append(
                SeriesEntry(
                    book=book,
                    series=ref.series,
                    position=ref.position.start,
                    position_end=ref.position.end,
                    position_label=ref.position.label,
                )
            )
            series_authors[ref.series.pk] += [
                author for author in authors if author not in series_authors[ref.series.pk]
            ]
    BookAuthor.objects.bulk_create(book_authors)
    narrator_link.objects.bulk_create(book_narrators)
    SeriesEntry.objects.bulk_create(entries)
    _series_link_authors(series_authors)

    # Completeness counts relations, which exist only now: compute it from one prefetch.
    fresh = list(
        Book.objects.filter(pk__in=[book.pk for book in books]).prefetch_related(
            "book_authors", "narrators", "series_entries"
        )
    )
    for book in fresh:
        book.metadata_completeness = book_completeness(book)
    Book.objects.bulk_update(fresh, ["metadata_completeness"], batch_size=500)
    series_recalculate_many(series_ids=series_authors)
    author_recalculate_many(author_ids={link.author_id for link in book_authors})
    return fresh


def _series_link_authors(series_authors: dict[int, list[Author]]) -> None:
    """Link each series to the authors of its new books; an author-less series gets its first author."""
    if not series_authors:
        return
    through = Series.authors.through
    existing = set(through.objects.filter(series_id__in=series_authors).values_list("series_id", "author_id"))
    wanted = {(series_id, author.pk) for series_id, authors in series_authors.items() for author in authors}
    through.objects.bulk_create([through(series_id=s, author_id=a) for s, a in sorted(wanted - existing)])
    for series in Series.objects.filter(id__in=series_authors, primary_author__isnull=True):
        if not series_authors[series.id]:
            continue
        first = series_authors[series.id][0]
        # Another series may already own that (name, author) pair; keep this one author-less then.
        if not Series.objects.filter(name_key=series.name_key, primary_author=first).exists():
            series.primary_author = first
            series.save(update_fields=["primary_author"])


def books_with_relations(queryset) -> dict:
    """Book id → book with authors, narrators and series entries prefetched (four queries)."""
    return {
        book.pk: book
        for book in queryset.prefetch_related(
            Prefetch("book_authors", queryset=BookAuthor.objects.select_related("author")),
            "narrators",
            Prefetch("series_entries", queryset=SeriesEntry.objects.select_related("series")),
        )
    }
