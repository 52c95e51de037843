"""The writes of a folder scan, one batch of books at a time.

New books are inserted in bulk (authors, narrators and series resolved for the whole batch
in a few queries), so a first scan costs a handful of queries per 200 books, not dozens per
book.  Changed books go through ``book_update``; the scan only changes fields that are not
locked and that are empty or were last set by a scan (a title a person or a provider fixed
stays), except the file-derived ones (duration, format, bitrate, size), which follow the files.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from types import SimpleNamespace

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Prefetch
from django.db.models.constants import OnConflict
from django.utils import timezone

from library import naming
from library.choices import BookStatus
from library.models import Author, Book, BookAuthor, BookFile, Narrator, Series, SeriesEntry, completeness_score
from library.services.books import SeriesRef, book_update
from library.services.completion import author_recalculate_many, series_recalculate_many

SOURCE = "scan"
FILE_FIELDS = frozenset({"duration_seconds", "format", "bitrate_kbps", "size_bytes"})
BOOKFILE_FIELDS = ["book", "size_bytes", "mtime", "format", "duration_seconds", "bitrate_kbps", "codec", "chapters"]
CHUNK = 500


# Keys of the same few thousand names are needed several times per batch.
_person_key = lru_cache(maxsize=50_000)(naming.person_key)
_series_key = lru_cache(maxsize=50_000)(lambda name: naming.name_key(naming.clean(name)))


# Field types whose get_db_prep_save() returns an str/int/float/None value unchanged on every backend.
_PLAIN_TYPES = frozenset(
    {
        "CharField",
        "TextField",
        "IntegerField",
        "SmallIntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
        "FloatField",
        "ForeignKey",
    }
)


def _chunks(items: list, size: int = CHUNK):
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]


def _empty(value) -> bool:
    return value in (None, "")


class ScanWriter:
    """Applies batches of scanned books; remembers which books still have files."""

    def __init__(self, report, *, known: dict, dry_run: bool):
        self.report = report
        self.counts = report.counts
        self.known = known
        self.dry_run = dry_run
        self.kept_books: set[int] = set()
        self.series_ids: set[int] = set()
        self.author_ids: set[int] = set()
        self._fileless: dict | None = None
        self._matched: set[int] = set()
        self._stamp = {"source": SOURCE, "at": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")}

    # --- batches -------------------------------------------------------------------------------

    def apply(self, batch) -> None:
        """Create, update and attach files for one batch of ``Work`` items (read already)."""
        ready = [item for item in batch if item.facts is not None]
        for item in ready:
            if item.book_id is None:
                item.book_id = self._match_fileless(item.facts)
        updates = []
        for item in ready:
            if item.book_id is None:
                continue
            if item.unreadable and item.from_files:
                # Half of a book is no reason to rewrite it: keep the last good state until all files read.
                self.kept_books.add(item.book_id)
                self.report.problem(
                    item.group.key.rstrip("/"),
                    "not_updated",
                    f"Book {item.book_id} kept as it was: {item.unreadable} of its files could not be read.",
                )
            else:
                updates.append(item)
        books = self._load(updates)
        for item in updates:
            if item.book_id not in books:
                item.book_id = None  # deleted since the scan started: make it anew
        updates = [item for item in updates if item.book_id is not None]
        creates = [item for item in ready if item.book_id is None]
        self.kept_books.update(item.book_id for item in updates)
        if self.dry_run:
            self.counts["created"] += len(creates)
            for item in updates:
                self._update(books[item.book_id], item)
            return
        with transaction.atomic():
            self._create(creates)
            for item in updates:
                self._update(books[item.book_id], item)
            self._write_files(creates + updates)

    def finish(self) -> None:
        """Refresh the cached counts of the series and authors that bulk-created books joined."""
        if self.dry_run or not (self.series_ids or self.author_ids):
            return
        with transaction.atomic():
            series_recalculate_many(series_ids=self.series_ids)
            author_recalculate_many(author_ids=self.author_ids)

    # --- existing books without files ----------------------------------------------------------

    def _match_fileless(self, facts) -> int | None:
        """A book with no files (entered by hand, synced from Audiobookshelf, archived) that this is.

        Matched on ASIN, then ISBN, then title and first author.
        """
        if self._fileless is None:
            self._fileless = self._load_fileless()
        keys = []
        if facts.fields["asin"]:
            keys.append(("asin", facts.fields["asin"]))
        if facts.fields["isbn"]:
            keys.append(("isbn", facts.fields["isbn"]))
        if facts.authors:
            keys.append(("title", naming.name_key(facts.title), _person_key(facts.authors[0])))
        for key in keys:
            book_id = self._fileless.get(key)
            if book_id is not None and book_id not in self._matched:
                self._matched.add(book_id)
                return book_id
        return None

    @staticmethod
    def _load_fileless() -> dict:
        index: dict = {}
        books = Book.objects.filter(files__isnull=True).values_list("id", "title", "isbn", "asin")
        first_authors = dict(
            BookAuthor.objects.filter(book__files__isnull=True)
            .order_by("-position", "-id")
            .values_list("book_id", "author__name_key")
        )
        for book_id, title, isbn, asin in books:
            if asin:
                index.setdefault(("asin", asin.upper()), book_id)
            if isbn:
                index.setdefault(("isbn", isbn.upper()), book_id)
            if book_id in first_authors:
                index.setdefault(("title", naming.name_key(title), first_authors[book_id]), book_id)
        return index

    # --- creation ------------------------------------------------------------------------------

    def _create(self, items) -> None:
        if not items:
            return
        author_ids = self._people(Author, [name for item in items for name in item.facts.authors], "authors_created")
        narrator_ids = self._people(
            Narrator, [name for item in items for name in item.facts.narrators], "narrators_created"
        )
        book_authors = [
            list(dict.fromkeys(author_ids[_person_key(name)] for name in item.facts.authors)) for item in items
        ]
        series_ids = self._series(items, book_authors)
        rows = []
        for item, authors in zip(items, book_authors, strict=True):
            fields = item.facts.fields
            rows.append(
                {
                    **fields,
                    "status": BookStatus.ACTIVE.value,
                    "metadata_sources": self._sources(item.facts),
                    # Book.save() is bypassed: score the relations about to be inserted.
                    "metadata_completeness": completeness_score(
                        SimpleNamespace(**fields),
                        authors=bool(authors),
                        narrators=bool(item.facts.narrators),
                        positions=[position.start for _name, position in item.facts.series[:1]],
                    ),
                }
            )
        book_ids = insert_rows(Book, rows, returning=True)
        links, narrations, entries, series_authors = [], [], [], []
        for item, book_id, authors in zip(items, book_ids, book_authors, strict=True):
            item.book_id = book_id
            links += [{"book_id": book_id, "author_id": author, "position": i} for i, author in enumerate(authors)]
            for narrator in dict.fromkeys(narrator_ids[_person_key(name)] for name in item.facts.narrators):
                narrations.append({"book_id": book_id, "narrator_id": narrator})
            for name, position in item.facts.series[:1]:
                series_id = series_ids[(_series_key(name), authors[0] if authors else None)]
                entries.append(
                    {
                        "book_id": book_id,
                        "series_id": series_id,
                        "position": position.start,
                        "position_end": position.end,
                        "position_label": position.label,
                    }
                )
                series_authors += [{"series_id": series_id, "author_id": author} for author in authors]
                self.series_ids.add(series_id)
            self.author_ids.update(authors)
        insert_rows(BookAuthor, links)
        insert_rows(Book.narrators.through, narrations, ignore_conflicts=True)
        insert_rows(SeriesEntry, entries)
        insert_rows(Series.authors.through, series_authors, ignore_conflicts=True)
        self.counts["created"] += len(book_ids)
        self.kept_books.update(book_ids)

    def _sources(self, facts) -> dict:
        filled = [name for name, value in facts.fields.items() if not _empty(value)]
        filled += [name for name in ("authors", "narrators", "series") if getattr(facts, name)]
        return dict.fromkeys(filled, self._stamp)

    def _people(self, model, names: list[str], counter: str) -> dict[str, int]:
        """``{person key: id}`` for ``names``, creating the people that do not exist yet."""
        wanted = {}
        for name in names:
            key = _person_key(name)
            if key not in wanted:
                wanted[key] = naming.person_name(name)
        ids: dict[str, int] = {}
        keys = list(wanted)
        for chunk in _chunks(keys):
            ids.update(model.objects.filter(name_key__in=chunk).values_list("name_key", "id"))
        missing = [key for key in keys if key not in ids]
        if missing:
            extra = (lambda display: {"sort_name": naming.sort_name(display)}) if model is Author else (lambda d: {})
            insert_rows(
                model,
                [{"name": wanted[key], "name_key": key, **extra(wanted[key])} for key in missing],
                ignore_conflicts=True,  # another process may have created the same person meanwhile
            )
            for chunk in _chunks(missing):
                ids.update(model.objects.filter(name_key__in=chunk).values_list("name_key", "id"))
            self.counts[counter] += len(missing)
        return ids

    def _series(self, items, book_authors) -> dict[tuple[str, int | None], int]:
        """``{(series key, first author id): series id}``, as ``series_get_or_create`` would pick them.

        The author's own series first, then an author-less one of that name (which the author
        then owns); without an author, any series of that name.  Missing series are created.
        """
        wanted: dict[tuple[str, int | None], str] = {}
        for item, authors in zip(items, book_authors, strict=True):
            for name, _position in item.facts.series[:1]:
                wanted.setdefault((_series_key(name), authors[0] if authors else None), naming.clean(name))
        if not wanted:
            return {}
        rows = self._series_rows({key for key, _ in wanted})
        chosen = {pair: self._series_pick(rows, *pair) for pair in wanted}
        missing = [pair for pair, series_id in chosen.items() if series_id is None]
        if missing:
            insert_rows(
                Series,
                [{"name": wanted[pair], "name_key": pair[0], "primary_author_id": pair[1]} for pair in missing],
                ignore_conflicts=True,
            )
            self.counts["series_created"] += len(missing)
            rows = self._series_rows({key for key, _ in missing})
            chosen.update({pair: self._series_pick(rows, *pair) for pair in missing})
        for (key, author_id), series_id in chosen.items():
            if author_id is not None and (series_id, None) in rows.get(key, ()):
                # An author-less series joined by this author's book becomes theirs (as book_update does).
                Series.objects.filter(id=series_id, primary_author__isnull=True).update(primary_author_id=author_id)
        return chosen

    @staticmethod
    def _series_rows(keys: set[str]) -> dict[str, list[tuple[int, int | None]]]:
        """``{series key: [(id, primary author id)]}`` by id."""
        rows: dict[str, list] = defaultdict(list)
        for chunk in _chunks(sorted(keys)):
            found = Series.objects.filter(name_key__in=chunk).order_by("id")
            for series_id, name_key, owner in found.values_list("id", "name_key", "primary_author_id"):
                rows[name_key].append((series_id, owner))
        return rows

    @staticmethod
    def _series_pick(rows, key: str, author_id: int | None) -> int | None:
        same_name = rows.get(key, [])
        if author_id is None:
            return same_name[0][0] if same_name else None
        for wanted_owner in (author_id, None):
            for series_id, owner in same_name:
                if owner == wanted_owner:
                    return series_id
        return None

    # --- updates -------------------------------------------------------------------------------

    @staticmethod
    def _load(items) -> dict[int, Book]:
        ids = [item.book_id for item in items]
        if not ids:
            return {}
        return Book.objects.prefetch_related(
            Prefetch("book_authors", queryset=BookAuthor.objects.select_related("author")),
            "narrators",
            Prefetch("series_entries", queryset=SeriesEntry.objects.select_related("series")),
        ).in_bulk(ids)

    def _update(self, book: Book, item) -> None:
        """Bring ``book`` in line with what the scan read, as far as the scan may change it."""
        facts = item.facts
        locked = set(book.locked_fields or [])
        sources = book.metadata_sources or {}

        def may_change(name: str, empty: bool) -> bool:
            if name in locked:
                return False
            return name in FILE_FIELDS or empty or (sources.get(name) or {}).get("source") == SOURCE

        fields = {}
        for name, value in facts.fields.items():
            current = getattr(book, name)
            if value == current or (_empty(value) and name not in FILE_FIELDS):
                continue
            if may_change(name, _empty(current)):
                fields[name] = value
        if book.status == BookStatus.ARCHIVED:
            fields["status"] = BookStatus.ACTIVE
            self.counts["restored"] += 1
        current_authors = [link.author.name_key for link in book.book_authors.all()]
        authors = None
        if facts.authors and [_person_key(n) for n in facts.authors] != current_authors:
            authors = facts.authors if may_change("authors", not current_authors) else None
        current_narrators = {narrator.name_key for narrator in book.narrators.all()}
        narrators = None
        if facts.narrators and {_person_key(n) for n in facts.narrators} != current_narrators:
            narrators = facts.narrators if may_change("narrators", not current_narrators) else None
        current_series = {(e.series.name_key, e.position, e.position_end) for e in book.series_entries.all()}
        wanted_series = {(_series_key(name), pos.start, pos.end) for name, pos in facts.series}
        series = None
        if facts.series and wanted_series != current_series and may_change("series", not current_series):
            series = [SeriesRef(series=name, position=position) for name, position in facts.series]
        if not (fields or authors or narrators or series):
            self.counts["unchanged"] += 1
            return
        self.counts["updated"] += 1
        if not self.dry_run:
            book_update(book=book, fields=fields, authors=authors, narrators=narrators, series=series, source=SOURCE)

    # --- files ---------------------------------------------------------------------------------

    def _write_files(self, items) -> None:
        """Point every scanned file's BookFile row at its book, with what was read."""
        create, update = [], []
        for item in items:
            for f in item.facts.files:
                values = {
                    "book_id": item.book_id,
                    "path": f.path,
                    "size_bytes": f.size,
                    "mtime": f.mtime,
                    "format": f.format,
                    "duration_seconds": f.duration,
                    "bitrate_kbps": f.bitrate_kbps,
                    "codec": f.codec,
                    "chapters": f.chapters,
                }
                known = self.known.get(f.path)
                if known is None:
                    create.append(values)
                else:
                    update.append(BookFile(id=known.id, **values))
        BookFile.objects.bulk_update(update, BOOKFILE_FIELDS, batch_size=CHUNK)
        # ignore_conflicts: an import may have recorded the same path since the scan started.
        insert_rows(BookFile, create, ignore_conflicts=True)


def insert_rows(model, rows: list[dict], *, returning: bool = False, ignore_conflicts: bool = False) -> list[int]:
    """INSERT ``rows`` (``{attname: value}``; missing fields get their defaults) in multi-row statements.

    What ``bulk_create`` does for plain concrete fields (defaults, ``auto_now``, each field's
    ``get_db_prep_save``, the backend's batch size and ON CONFLICT syntax) without building a
    model instance and compiling an expression per value: on a first scan that overhead costs
    more than the database.  No ``save()`` and no signals, as with ``bulk_create``.  With
    ``returning``, returns the new primary keys in row order.  Text, integer and float
    values (and foreign key ids) must already be ``str``/``int``/``float``: they are passed
    to the driver as they are.
    """
    if not rows:
        return []
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the ``connection`` proxy costs per value
    ops = db.ops
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    now = timezone.now()
    plan = []
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            default = now
        else:
            default = field.get_default()
        passthrough = field.get_internal_type() in _PLAIN_TYPES
        plan.append((field.attname, default, None if passthrough else field.get_db_prep_save))
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    columns = ", ".join(ops.quote_name(field.column) for field in fields)
    head = f"{ops.insert_statement(on_conflict=on_conflict)} {ops.quote_name(meta.db_table)} ({columns}) VALUES "
    tail = " ".join(
        part
        for part in (
            ops.on_conflict_suffix_sql(fields, on_conflict, [], []),
            ops.return_insert_columns([meta.pk])[0] if returning else "",
        )
        if part
    )
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    size = min(CHUNK, ops.bulk_batch_size(fields, rows) or CHUNK)
    ids: list[int] = []
    with db.cursor() as cursor:
        for chunk in _chunks(rows, size):
            params = [
                row.get(attname, default) if prep is None else prep(row.get(attname, default), db)
                for row in chunk
                for attname, default, prep in plan
            ]
            cursor.execute(head + ", ".join([row_sql] * len(chunk)) + (" " + tail if tail else ""), params)
            if returning:
                ids += [row[0] for row in cursor.fetchall()]
    return ids
