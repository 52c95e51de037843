"""Export the library to a JSON or CSV file and import such a file (SPEC §9 Import/export).

The file's shapes are in ``library.transfer_format``.  Import matches each book of the file
to an existing one by ``abs_id``, then ISBN, then ASIN, then normalised title + first
author (each existing book at most once), updates what differs and creates the rest: an
export imported into the same library changes nothing, into an empty one reproduces it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework import serializers

from library import naming
from library.models import Author, Book, BookAuthor, Narrator, Series, SeriesEntry, book_completeness
from library.selectors import books as selectors
from library.services.authors import author_update
from library.services.books import SCALAR_FIELDS, SeriesRef, book_create, book_update
from library.services.completion import author_recalculate_many, series_recalculate_many
from library.services.people import author_get_or_create, narrator_get_or_create, series_get_or_create
from library.services.series import series_update
from library.transfer_format import (
    AUTHOR_KEYS,
    SERIES_FIELDS,
    AuthorRecordSerializer,
    BookRecordSerializer,
    LibraryFile,
    SeriesRecordSerializer,
    book_record,
    csv_document,
    json_document,
    read_library_file,
    validation_problems,
)
from mamcrawler.api.exceptions import AppError

SOURCE = "import"
# Books read per round of queries on export (the prefetches run once per chunk).
EXPORT_CHUNK = 2000
# New books are written this many at a time.
CREATE_BATCH = 500

# --- export ----------------------------------------------------------------------------------


def library_export(*, fmt: str) -> str:
    """The whole library as one JSON or CSV document (see ``library_export_stream``)."""
    return "".join(library_export_stream(fmt=fmt))


def library_export_stream(*, fmt: str) -> Iterator[str]:
    """The library as pieces of a JSON or CSV document; books are read ``EXPORT_CHUNK`` at a time.

    Reads only, in a constant number of queries per chunk of books: 4 (books, their author
    links, narrators and series entries), plus 3 for the JSON sections (authors, series,
    series authors).  Raises ``ValueError`` for another ``fmt``.
    """
    if fmt == "json":
        return _json_stream()
    if fmt == "csv":
        return csv_document(book_record(book) for book in _books())
    raise ValueError(f"Unknown format {fmt!r}; use json or csv.")


def export_filename(*, fmt: str) -> str:
    return f"mamcrawler-library-{timezone.now():%Y%m%d-%H%M%S}.{fmt}"


def _books() -> Iterator[Book]:
    queryset = Book.objects.prefetch_related(*selectors.book_relation_prefetches()).order_by("id")
    return queryset.iterator(chunk_size=EXPORT_CHUNK)


def _json_stream() -> Iterator[str]:
    authors = [
        dict(zip(AUTHOR_KEYS, row, strict=True)) for row in Author.objects.order_by("id").values_list(*AUTHOR_KEYS)
    ]
    series, ambiguous = _series_section()
    books = (book_record(book, ambiguous=ambiguous) for book in _books())
    return json_document(exported_at=timezone.now(), authors=authors, series=series, books=books)


def _series_section() -> tuple[list[dict], dict[int, str | None]]:
    """The series records, and the primary author of each series whose name is shared."""
    rows = list(
        Series.objects.order_by("id").values(
            "id", "name", "name_key", "primary_author_id", "primary_author__name", *SERIES_FIELDS
        )
    )
    linked = defaultdict(list)
    links = Series.authors.through.objects.order_by("author__name", "author_id")
    for series_id, author_id, name in links.values_list("series_id", "author_id", "author__name"):
        linked[series_id].append((author_id, name))
    shared = Counter(row["name_key"] for row in rows)
    records, ambiguous = [], {}
    for row in rows:
        primary = row["primary_author__name"]
        others = [name for author_id, name in linked[row["id"]] if author_id != row["primary_author_id"]]
        records.append(
            {
                "name": row["name"],
                "primary_author": primary,
                "authors": [primary, *others] if primary else others,
                **{key: row[key] for key in SERIES_FIELDS},
            }
        )
        if shared[row["name_key"]] > 1:
            ambiguous[row["id"]] = primary
    return records, ambiguous


# --- import ------------------------------------------------------------------------------------


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """What an import did: book counts, the sections' counts, and every skipped record."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)
    authors: Counts = field(default_factory=Counts)
    series: Counts = field(default_factory=Counts)
    dry_run: bool = False

    def add_error(self, row: int | None, loc: list, msg: str) -> None:
        self.errors.append({"row": row, "loc": loc, "msg": msg})

    def as_dict(self) -> dict:
        return asdict(self)


@transaction.atomic
def library_import(
    *,
    data: bytes,
    fmt: str | None = None,
    filename: str = "",
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import a library file (JSON or CSV; by ``filename`` or content when ``fmt`` is None).

    In one transaction: creates or updates authors, series, narrators and books, then
    refreshes the cached counts of the series and authors it touched.  A record that is
    invalid or conflicts is skipped and listed in ``errors``; the rest is imported.  With
    ``dry_run`` everything is rolled back and the report tells what would have happened.
    Raises ``LibraryFileError`` (nothing written) when the file cannot be read at all.
    """
    parsed = read_library_file(data=data, fmt=fmt, filename=filename)
    report = _Importer(ImportReport(dry_run=dry_run)).run(parsed, progress=progress)
    if dry_run:
        transaction.set_rollback(True)
    return report


class _RecordError(Exception):
    """One record's problems, each ``(loc inside the record, message)``."""

    def __init__(self, problems: list[tuple[list, str]]):
        self.problems = problems
        super().__init__(problems[0][1])


# Failures of one record that leave the rest of the import sound.
_SERVICE_ERRORS = (ValueError, AppError, IntegrityError, DjangoValidationError)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, AppError):
        return exc.detail_text or exc.message
    if isinstance(exc, IntegrityError):
        return "Conflicts with the library: a value that must be unique is taken."
    if isinstance(exc, DjangoValidationError):
        return "; ".join(exc.messages)
    return str(exc)


@dataclass
class _Stored:
    """A book's relations as stored, to tell whether a record changes anything."""

    author_ids: list[int]
    narrator_ids: set[int]
    entries: dict[int, tuple]


@dataclass
class _NewBook:
    row: int
    data: dict
    authors: list[Author]
    narrators: list[Narrator]
    refs: list[SeriesRef]


class _Importer:
    """One import: the library indexed in memory (a few queries), then the file record by record.

    Changed books go through ``book_update``; new books are written ``CREATE_BATCH`` at a
    time with the rules of ``book_create`` (one book at a time if a batch fails), and the
    cached counts they feed are refreshed once at the end.
    """

    def __init__(self, report: ImportReport):
        self.report = report
        self.authors = {author.name_key: author for author in Author.objects.all()}
        self.authors_by_id = {author.id: author for author in self.authors.values()}  # as at the start
        self.narrators = {narrator.name_key: narrator for narrator in Narrator.objects.all()}
        self.series: dict[str, list[Series]] = defaultdict(list)
        for series in Series.objects.order_by("id"):
            self.series[series.name_key].append(series)
        self.series_authors: dict[int, set[int]] = defaultdict(set)
        for series_id, author_id in Series.authors.through.objects.values_list("series_id", "author_id"):
            self.series_authors[series_id].add(author_id)
        self.stored: dict[int, _Stored] = {}
        self.by_abs: dict[str, Book] = {}
        self.by_isbn: dict[str, list[Book]] = defaultdict(list)
        self.by_asin: dict[str, list[Book]] = defaultdict(list)
        self.by_title: dict[tuple[str, str], list[Book]] = defaultdict(list)
        for book in Book.objects.prefetch_related(*selectors.book_relation_prefetches()).order_by("id"):
            self._index(book)
        self.claimed: dict[int, int] = {}  # book id → the row that matched it
        self.abs_rows: dict[str, int] = {}
        self.pending: list[_NewBook] = []
        # Undoes the in-memory side of what a record did, should its savepoint roll back.
        self.undo: list[Callable[[], None]] = []
        self.validators: dict[type, serializers.Serializer] = {}
        self.touched_series: set[int] = set()
        self.touched_authors: set[int] = set()

    def _index(self, book: Book) -> None:
        links = selectors.relation_list(book, selectors.AUTHOR_LINKS)
        self.stored[book.id] = _Stored(
            author_ids=[link.author_id for link in links],
            narrator_ids={narrator.id for narrator in selectors.relation_list(book, selectors.NARRATORS)},
            entries={
                entry.series_id: (entry.position, entry.position_end, entry.position_label)
                for entry in selectors.relation_list(book, selectors.SERIES_ENTRIES)
            },
        )
        if book.abs_id:
            self.by_abs[book.abs_id] = book
        if book.isbn:
            self.by_isbn[book.isbn].append(book)
        if book.asin:
            self.by_asin[book.asin].append(book)
        first = naming.name_key(links[0].author_name) if links else ""
        self.by_title[(naming.name_key(book.title), first)].append(book)

    def run(self, parsed: LibraryFile, *, progress=None) -> ImportReport:
        for index, raw in enumerate(parsed.authors):
            self._guarded(None, ["authors", index], self._import_author, raw)
        for index, raw in enumerate(parsed.series):
            self._guarded(None, ["series", index], self._import_series, raw)
        total = len(parsed.books)
        for row, raw in enumerate(parsed.books, 1):
            for problem in parsed.cell_problems.get(row, ()):
                self.report.add_error(problem.row, problem.loc, problem.msg)
            if row not in parsed.cell_problems:
                self._guarded(row, [], self._import_book, row, raw)
            if len(self.pending) >= CREATE_BATCH:
                self._flush()
            if progress is not None:
                progress(row, total)
        self._flush()
        series_recalculate_many(series_ids=self.touched_series)
        author_recalculate_many(author_ids=self.touched_authors)
        return self.report

    def _guarded(self, row: int | None, loc: list, function, *args) -> bool:
        """Run one record's import in a savepoint; a failure is undone (indexes and counts too)
        and reported."""
        report = self.report
        counts = (report.created, report.updated, report.unchanged, replace(report.authors), replace(report.series))
        mark = len(self.undo)
        try:
            with transaction.atomic():
                function(*args)
        except (_RecordError, *_SERVICE_ERRORS) as exc:
            while len(self.undo) > mark:
                self.undo.pop()()
            report.created, report.updated, report.unchanged, report.authors, report.series = counts
            problems = exc.problems if isinstance(exc, _RecordError) else [([], _error_text(exc))]
            for inner, msg in problems:
                report.add_error(row, [*loc, *inner], msg)
            return False
        del self.undo[mark:]
        return True

    def _validated(self, serializer_class, raw: dict) -> dict:
        # One serializer per kind of record: building its fields costs more than validating.
        validator = self.validators.get(serializer_class)
        if validator is None:
            validator = self.validators[serializer_class] = serializer_class()
        try:
            return validator.run_validation(raw)
        except serializers.ValidationError as exc:
            raise _RecordError(list(validation_problems(exc.detail)))

    # -- people and series --

    def _author(self, name: str) -> Author:
        key = naming.person_key(name)
        author = self.authors.get(key)
        if author is None:
            author = self.authors[key] = author_get_or_create(name=name)
            self.undo.append(lambda: self.authors.pop(key, None))
            self.report.authors.created += 1
        return author

    def _narrator(self, name: str) -> Narrator:
        key = naming.person_key(name)
        narrator = self.narrators.get(key)
        if narrator is None:
            narrator = self.narrators[key] = narrator_get_or_create(name=name)
            self.undo.append(lambda: self.narrators.pop(key, None))
        return narrator

    def _import_author(self, raw: dict) -> None:
        data = self._validated(AuthorRecordSerializer, raw)
        author = self.authors.get(naming.person_key(data["name"]))
        fields = {key: value for key, value in data.items() if key != "name"}
        if author is None:
            # Not ``author_create``: its name check is the index, its counts come once at the end.
            author = Author.objects.create(name=data["name"], **fields)
            self.authors[author.name_key] = author
            self.undo.append(lambda: self.authors.pop(author.name_key, None))
            self.touched_authors.add(author.id)
            self.report.authors.created += 1
            return
        changed = {key: value for key, value in fields.items() if getattr(author, key) != value}
        if naming.person_name(data["name"]) != author.name:
            changed["name"] = data["name"]
            changed.setdefault("sort_name", data.get("sort_name", ""))
        if changed:
            author_update(author=author, **changed)
            self.report.authors.updated += 1
        else:
            self.report.authors.unchanged += 1

    def _import_series(self, raw: dict) -> None:
        data = self._validated(SeriesRecordSerializer, raw)
        authors = [self._author(name) for name in data.get("authors", [])]
        if "primary_author" in data:
            primary = self._author(data["primary_author"]) if data["primary_author"] else None
        else:
            primary = authors[0] if authors else None
        ordered = list(dict.fromkeys([*([primary] if primary else []), *authors]))
        fields = {key: data[key] for key in SERIES_FIELDS if key in data}
        series = self._series_exact(data["name"], primary)
        if series is None:
            # Not ``series_create``: its name check is the index, its counts come once at the end.
            series = Series.objects.create(name=data["name"], primary_author=primary, **fields)
            series.authors.add(*ordered)
            self.touched_series.add(series.id)
            self._add_series(series)
            self.series_authors[series.id] = {author.id for author in ordered}
            # SQLite hands a rolled-back id out again: forget this one's links on rollback.
            self.undo.append(lambda: self.series_authors.pop(series.id, None))
            self.report.series.created += 1
            return
        changed = {key: value for key, value in fields.items() if getattr(series, key) != value}
        if naming.clean(data["name"]) != series.name:
            changed["name"] = data["name"]
        missing = [author for author in ordered if author.id not in self.series_authors[series.id]]
        if changed:
            series_update(series=series, **changed)
        if missing:
            series.authors.add(*missing)
            self.series_authors[series.id] |= {author.id for author in missing}
            self.undo.append(lambda: self.series_authors[series.id].difference_update(a.id for a in missing))
        if changed or missing:
            self.report.series.updated += 1
        else:
            self.report.series.unchanged += 1

    def _series_exact(self, name: str, primary: Author | None) -> Series | None:
        primary_id = primary.id if primary else None
        candidates = self.series.get(naming.name_key(naming.clean(name)), [])
        return next((series for series in candidates if series.primary_author_id == primary_id), None)

    def _series_for(self, item: dict, authors: list[Author]) -> Series:
        """The series a book entry names: exactly when the entry names its primary author, else
        one led by the book's authors, one without an author, or the oldest; created if none."""
        name = item["name"]
        if "primary_author" in item:
            lead = self._author(item["primary_author"]) if item["primary_author"] else None
            series = self._series_exact(name, lead)
            if series is None:
                series = Series.objects.create(name=name, primary_author=lead)
                self._add_series(series)
                self.report.series.created += 1
            return series
        candidates = self.series.get(naming.name_key(naming.clean(name)), [])
        by_lead = {series.primary_author_id: series for series in reversed(candidates)}
        series = next((by_lead[author.id] for author in authors if author.id in by_lead), None)
        series = series or by_lead.get(None) or (candidates[0] if candidates else None)
        if series is None:
            series = series_get_or_create(name=name, author=authors[0] if authors else None)
            self._add_series(series)
            self.report.series.created += 1
        return series

    def _add_series(self, series: Series) -> None:
        self.series[series.name_key].append(series)
        self.undo.append(lambda: self.series[series.name_key].remove(series))

    # -- books --

    def _match(self, data: dict, authors: list[Author] | None) -> Book | None:
        abs_id = data.get("abs_id")
        if abs_id and abs_id in self.by_abs:
            book = self.by_abs[abs_id]
            if book.id in self.claimed:
                raise _RecordError([(["abs_id"], f"Row {self.claimed[book.id]} already matched this abs_id's book.")])
            return book

        def available(book: Book, *, by_title: bool) -> bool:
            if book.id in self.claimed or (abs_id and book.abs_id and book.abs_id != abs_id):
                return False
            # A title match must not contradict an identifier: that is another edition.
            return not by_title or not any(
                data.get(key) and getattr(book, key) and data[key] != getattr(book, key) for key in ("isbn", "asin")
            )

        by_identifier = [*self.by_isbn.get(data.get("isbn") or "", []), *self.by_asin.get(data.get("asin") or "", [])]
        found = next((book for book in by_identifier if available(book, by_title=False)), None)
        if found is None:
            first = authors[0].name_key if authors else ""
            titled = self.by_title.get((naming.name_key(data["title"]), first), [])
            found = next((book for book in titled if available(book, by_title=True)), None)
        return found

    def _import_book(self, row: int, raw: dict) -> None:
        data = self._validated(BookRecordSerializer, raw)
        abs_id = data.get("abs_id")
        if abs_id and abs_id in self.abs_rows:
            raise _RecordError([(["abs_id"], f"Row {self.abs_rows[abs_id]} has the same abs_id.")])
        authors = narrators = refs = None
        if "authors" in data:
            authors = list(dict.fromkeys(self._author(name) for name in data["authors"]))
        if "narrators" in data:
            narrators = list(dict.fromkeys(self._narrator(name) for name in data["narrators"]))
        book = self._match(data, authors)
        if "series" in data:
            lead_authors = authors
            if lead_authors is None:  # the file names no authors: the stored ones lead
                lead_authors = (
                    [self.authors_by_id[author_id] for author_id in self.stored[book.id].author_ids] if book else []
                )
            positions = {self._series_for(item, lead_authors): item["position_label"] for item in data["series"]}
            refs = [SeriesRef(series=series, position=position) for series, position in positions.items()]
        if book is None:
            self.pending.append(_NewBook(row, data, authors or [], narrators or [], refs or []))
            self.report.created += 1
        else:
            if self._update(book, data, authors, narrators, refs):
                self.report.updated += 1
            else:
                self.report.unchanged += 1
            self.claimed[book.id] = row
        if abs_id:
            self.abs_rows[abs_id] = row

    def _update(self, book: Book, data: dict, authors, narrators, refs) -> bool:
        """Apply what differs from the stored book; return whether anything did."""
        stored = self.stored[book.id]
        fields = {name: data[name] for name in SCALAR_FIELDS if name in data and data[name] != getattr(book, name)}
        if authors is not None and [author.id for author in authors] == stored.author_ids:
            authors = None
        if narrators is not None and {narrator.id for narrator in narrators} == stored.narrator_ids:
            narrators = None
        if refs is not None:
            wanted = {ref.series.id: (ref.position.start, ref.position.end, ref.position.label) for ref in refs}
            if wanted == stored.entries:
                refs = None
        extra = {
            key: data[key]
            for key in ("locked_fields", "metadata_sources")
            if key in data and data[key] != getattr(book, key)
        }
        relations = authors is not None or narrators is not None or refs is not None
        if not (fields or relations or extra):
            return False
        if fields or relations:
            book_update(book=book, fields=fields, authors=authors, narrators=narrators, series=refs, source=SOURCE)
            if "metadata_sources" in data:  # the file's provenance wins over this update's stamps
                extra["metadata_sources"] = data["metadata_sources"]
        if extra:
            Book.objects.filter(pk=book.pk).update(**extra, updated_at=timezone.now())
        return True

    # -- new books --

    def _flush(self) -> None:
        """Write the pending new books; should the batch fail, write them one by one."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            with transaction.atomic():
                self._create_many(batch)
        except _SERVICE_ERRORS:
            self._reload_series({ref.series.id: ref.series for new in batch for ref in new.refs})
            self.report.created -= len(batch)
            for new in batch:
                if self._guarded(new.row, [], self._create_one, new):
                    self.report.created += 1

    def _reload_series(self, series_by_id: dict[int, Series]) -> None:
        """After a failed batch: the primary authors and author links as stored."""
        for series in Series.objects.filter(id__in=series_by_id).only("id", "primary_author"):
            series_by_id[series.id].primary_author_id = series.primary_author_id
        links = Series.authors.through.objects.filter(series_id__in=series_by_id)
        for series_id in series_by_id:
            self.series_authors[series_id] = set()
        for series_id, author_id in links.values_list("series_id", "author_id"):
            self.series_authors[series_id].add(author_id)

    def _create_one(self, new: _NewBook) -> None:
        fields = {name: new.data[name] for name in SCALAR_FIELDS if name in new.data}
        book = book_create(fields=fields, authors=new.authors, narrators=new.narrators, series=new.refs, source=SOURCE)
        extra = {key: new.data[key] for key in ("locked_fields", "metadata_sources") if key in new.data}
        if new.data.get("date_added"):
            extra["date_added"] = new.data["date_added"]
        if extra:
            Book.objects.filter(pk=book.pk).update(**extra)

    def _create_many(self, batch: list[_NewBook]) -> None:
        """``book_create`` for many books in a few queries; counts are refreshed by ``run``."""
        stamp = {"source": SOURCE, "at": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")}
        books = []
        for new in batch:
            fields = {name: new.data[name] for name in SCALAR_FIELDS if name in new.data}
            book = Book(**fields, locked_fields=new.data.get("locked_fields", []))
            book.abs_id = book.abs_id or None
            sources = dict.fromkeys((*fields, "authors", "narrators", "series"), stamp)
            book.metadata_sources = new.data.get("metadata_sources", sources)
            books.append(book)
        Book.objects.bulk_create(books, batch_size=CREATE_BATCH)
        narrator_links = Book.narrators.through
        BookAuthor.objects.bulk_create(
            BookAuthor(book=book, author=author, position=index)
            for book, new in zip(books, batch, strict=True)
            for index, author in enumerate(new.authors)
        )
        narrator_links.objects.bulk_create(
            narrator_links(book_id=book.id, narrator_id=narrator.id)
            for book, new in zip(books, batch, strict=True)
            for narrator in new.narrators
        )
        SeriesEntry.objects.bulk_create(
            SeriesEntry(
                book=book,
                series=ref.series,
                position=ref.position.start,
                position_end=ref.position.end,
                position_label=ref.position.label,
            )
            for book, new in zip(books, batch, strict=True)
            for ref in new.refs
        )
        for new in batch:
            self._link_series_authors(new)
            self.touched_authors |= {author.id for author in new.authors}
            self.touched_series |= {ref.series.id for ref in new.refs}
        self._finish_new(books, batch)

    def _link_series_authors(self, new: _NewBook) -> None:
        """As ``book_create`` does: the book's authors join its series, and a series without a
        primary author gets the book's first author (unless that author has one of that name)."""
        if not new.authors:
            return
        through = Series.authors.through
        links = []
        for ref in new.refs:
            series = ref.series
            for author in new.authors:
                if author.id not in self.series_authors[series.id]:
                    self.series_authors[series.id].add(author.id)
                    links.append(through(series_id=series.id, author_id=author.id))
            lead = new.authors[0]
            taken = any(other.primary_author_id == lead.id for other in self.series[series.name_key])
            if series.primary_author_id is None and not taken:
                series.primary_author = lead
                series.save(update_fields=["primary_author"])
        through.objects.bulk_create(links)

    @staticmethod
    def _finish_new(books: list[Book], batch: list[_NewBook]) -> None:
        """Completeness from the written relations, and the file's ``date_added``
        (``bulk_create`` stamps every new book with now)."""
        added = {book.id: new.data.get("date_added") for book, new in zip(books, batch, strict=True)}
        fresh = Book.objects.filter(id__in=added).prefetch_related("book_authors", "narrators", "series_entries")
        date_added = Book._meta.get_field("date_added")
        rows = [
            (
                book_completeness(book),
                date_added.get_db_prep_save(added[book.id] or book.date_added, connection),
                book.id,
            )
            for book in fresh
        ]
        # One statement run for every row: ``bulk_update``'s CASE expressions cost ~1 ms a book.
        quote = connection.ops.quote_name
        columns = ", ".join(f"{quote(name)} = %s" for name in ("metadata_completeness", "date_added"))
        sql = f"UPDATE {quote(Book._meta.db_table)} SET {columns} WHERE {quote('id')} = %s"  # noqa: S608 - names from the model
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
