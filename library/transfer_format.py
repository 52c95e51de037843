"""The library file (SPEC §9 Import/export): its JSON and CSV shapes, reading and validation.

JSON: ``{"format": "mamcrawler-library", "version": 1, "exported_at", "authors", "series",
"books"}``.  Each book carries ``BOOK_KEYS``: ``authors`` (names in credit order),
``narrators`` (names), ``series`` (``[{"name", "position_label"}]``, plus ``primary_author``
when two series share the name), identifiers, file facts, ``status``, ``locked_fields``,
``metadata_sources`` and ``date_added``.  The ``authors`` and ``series`` sections carry what
book rows cannot: monitored flags, known totals, provider ids, the authors of a series.

CSV: one row per book, the ``BOOK_KEYS`` columns; lists are joined with " | ", a series
entry is written "Name #label", ``metadata_sources`` is a JSON object, an empty cell is null.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePath

from rest_framework import serializers

from library.choices import LOCKABLE_FIELDS, BookStatus
from library.models import Book
from library.positions import parse_position
from library.selectors import books as selectors
from library.services.authors import PROVIDER_FIELDS

FORMAT_NAME = "mamcrawler-library"
FORMAT_VERSION = 1
FORMATS = ("json", "csv")
LIST_SEPARATOR = " | "
MAX_INTEGER = 2_147_483_647
MAX_BIG_INTEGER = 2**63 - 1

# Every editable book field (the lockable ones), then what the library itself keeps.
BOOK_KEYS = (
    *LOCKABLE_FIELDS,
    "size_bytes",
    "abs_id",
    "status",
    "locked_fields",
    "metadata_sources",
    "date_added",
)
AUTHOR_KEYS = ("name", "sort_name", "monitored", "books_known", *PROVIDER_FIELDS)
SERIES_KEYS = ("name", "primary_author", "authors", "monitored", "total_known", *PROVIDER_FIELDS)
# Series keys that are plain fields of the series row.
SERIES_FIELDS = ("monitored", "total_known", *PROVIDER_FIELDS)

_LIST_COLUMNS = ("authors", "narrators", "locked_fields")
_NULL_WHEN_EMPTY = (
    "published_year",
    "published_date",
    "duration_seconds",
    "bitrate_kbps",
    "size_bytes",
    "abs_id",
    "date_added",
)
# An empty cell leaves these as they are (or at their defaults for a new book).
_ABSENT_WHEN_EMPTY = ("abridged", "status", "metadata_sources")
_FLUSH_EVERY = 200


def timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- writing -----------------------------------------------------------------------------------


def book_record(book: Book, *, ambiguous: dict[int, str | None] | None = None) -> dict:
    """A book in the file's shape (JSON types); relations come from the list prefetches.

    ``ambiguous`` maps the ids of series whose name another series shares to their
    primary author's name, which the entry then names too.
    """
    series = []
    for entry in selectors.relation_list(book, selectors.SERIES_ENTRIES):
        item = {"name": entry.series_name, "position_label": entry.position_label}
        if ambiguous and entry.series_id in ambiguous:
            item["primary_author"] = ambiguous[entry.series_id]
        series.append(item)
    return {
        "title": book.title,
        "subtitle": book.subtitle,
        "authors": [link.author_name for link in selectors.relation_list(book, selectors.AUTHOR_LINKS)],
        "narrators": [narrator.name for narrator in selectors.relation_list(book, selectors.NARRATORS)],
        "series": series,
        "isbn": book.isbn,
        "asin": book.asin,
        "publisher": book.publisher,
        "published_year": book.published_year,
        "published_date": book.published_date.isoformat() if book.published_date else None,
        "language": book.language,
        "description": book.description,
        "duration_seconds": book.duration_seconds,
        "abridged": book.abridged,
        "format": book.format,
        "bitrate_kbps": book.bitrate_kbps,
        "size_bytes": book.size_bytes,
        "abs_id": book.abs_id,
        "status": book.status,
        "locked_fields": list(book.locked_fields),
        "metadata_sources": book.metadata_sources,
        "date_added": timestamp(book.date_added) if book.date_added else None,
    }


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json_list(key: str, records: Iterable[dict], *, last: bool) -> Iterator[str]:
    """``"key": [...]`` with one record per line, a few hundred records per piece."""
    buffer = [f"  {_dumps(key)}: ["]
    empty = True
    for record in records:
        buffer.append(("\n    " if empty else ",\n    ") + _dumps(record))
        empty = False
        if len(buffer) >= _FLUSH_EVERY:
            yield "".join(buffer)
            buffer = []
    buffer.append("]" if empty else "\n  ]")
    buffer.append("\n" if last else ",\n")
    yield "".join(buffer)


def json_document(
    *, exported_at: datetime, authors: Iterable[dict], series: Iterable[dict], books: Iterable[dict]
) -> Iterator[str]:
    """The JSON file in pieces; ``series`` and ``books`` are consumed in that order."""
    head = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "exported_at": timestamp(exported_at)}
    yield "{\n" + "".join(f"  {_dumps(key)}: {_dumps(value)},\n" for key, value in head.items())
    yield from _json_list("authors", authors, last=False)
    yield from _json_list("series", series, last=False)
    yield from _json_list("books", books, last=True)
    yield "}\n"


def _series_cell(item: dict) -> str:
    name, label = item["name"], item["position_label"]
    if label or "#" in name:  # "Name #" keeps a "#" inside an unnumbered name from reading as a label
        return f"{name} #{label}"
    return name


def csv_row(record: dict) -> list[str]:
    """A book record as CSV cells in ``BOOK_KEYS`` order."""
    cells = []
    for key in BOOK_KEYS:
        value = record[key]
        if key == "series":
            value = LIST_SEPARATOR.join(_series_cell(item) for item in value)
        elif key in _LIST_COLUMNS:
            value = LIST_SEPARATOR.join(value)
        elif key == "metadata_sources":
            value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif value is None:
            value = ""
        cells.append(str(value))
    return cells


def csv_document(books: Iterable[dict]) -> Iterator[str]:
    """The CSV file in pieces: the header, then a row per book."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(BOOK_KEYS)
    for count, record in enumerate(books, 1):
        writer.writerow(csv_row(record))
        if count % _FLUSH_EVERY == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileProblem:
    """What is wrong where: ``row`` is a book's 1-based number in the file (None outside the
    books), ``loc`` the path inside that book, or inside the file for anything else."""

    row: int | None
    loc: list
    msg: str

    def __str__(self) -> str:
        where = ".".join(map(str, self.loc))
        if self.row is not None:
            where = f"row {self.row}" + (f" {where}" if where else "")
        return f"{where}: {self.msg}" if where else self.msg


class LibraryFileError(ValueError):
    """The file cannot be read as a library at all (not UTF-8, not JSON or CSV, wrong shape)."""

    def __init__(self, problems: list[FileProblem]):
        self.problems = problems
        super().__init__("; ".join(map(str, problems[:5])))


@dataclass
class LibraryFile:
    """The records of a file, read but not yet validated."""

    books: list[dict]
    authors: list[dict] = field(default_factory=list)
    series: list[dict] = field(default_factory=list)
    # Cells that could not be turned into values (CSV), by row.
    cell_problems: dict[int, list[FileProblem]] = field(default_factory=dict)


def detect_format(data: bytes, *, filename: str = "") -> str:
    """``json`` or ``csv``: by the file name's extension, else by the first character."""
    suffix = PurePath(filename).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    head = data[:1024].decode("utf-8", "ignore").lstrip("\ufeff \t\r\n")
    return "json" if head.startswith(("{", "[")) else "csv"


def read_library_file(*, data: bytes, fmt: str | None = None, filename: str = "") -> LibraryFile:
    """Read ``data`` as a library file; raise ``LibraryFileError`` when its shape is wrong."""
    fmt = fmt or detect_format(data, filename=filename)
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}; use json or csv.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LibraryFileError([FileProblem(None, [], f"The file is not UTF-8 text (byte {exc.start}).")])
    if not text.strip():
        raise LibraryFileError([FileProblem(None, [], "The file is empty.")])
    return _read_json(text) if fmt == "json" else _read_csv(text)


def _read_json(text: str) -> LibraryFile:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        raise LibraryFileError([FileProblem(None, [], message)])
    if not isinstance(document, dict):
        raise LibraryFileError([FileProblem(None, [], "A library file is a JSON object with a books list.")])
    problems = []
    if document.get("format", FORMAT_NAME) != FORMAT_NAME:
        problems.append(FileProblem(None, ["format"], f'Not a library file: format must be "{FORMAT_NAME}".'))
    if document.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        problems.append(FileProblem(None, ["version"], f"Only version {FORMAT_VERSION} can be read."))
    lists = {}
    for key in ("books", "authors", "series"):
        value = document.get(key, None if key == "books" else [])
        if not isinstance(value, list):
            problems.append(FileProblem(None, [key], "Must be a list." if key in document else "Missing."))
            continue
        lists[key] = value
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                row, loc = (index + 1, []) if key == "books" else (None, [key, index])
                problems.append(FileProblem(row, loc, "Must be an object."))
    if problems:
        raise LibraryFileError(problems)
    return LibraryFile(books=lists["books"], authors=lists["authors"], series=lists["series"])


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split("|") if part.strip()]


def _series_items(cell: str) -> list[dict]:
    items = []
    for part in _split(cell):
        name, hash_sign, label = part.rpartition("#")
        items.append({"name": name.strip(), "position_label": label.strip()} if hash_sign else {"name": part})
    return items


def _csv_record(cells: dict[str, str], row: int, problems: dict[int, list[FileProblem]]) -> dict:
    """A CSV row as the values a JSON book holds (columns the header lacks stay absent)."""
    record: dict = {}
    for key, cell in cells.items():
        if key in _ABSENT_WHEN_EMPTY and cell.strip() == "":
            continue
        if key in _NULL_WHEN_EMPTY and cell.strip() == "":
            record[key] = None
        elif key == "series":
            record[key] = _series_items(cell)
        elif key in _LIST_COLUMNS:
            record[key] = _split(cell)
        elif key == "metadata_sources":
            try:
                record[key] = json.loads(cell)
            except json.JSONDecodeError as exc:
                problems.setdefault(row, []).append(FileProblem(row, [key], f"Not valid JSON: {exc.msg}."))
        else:
            record[key] = cell
    return record


def _read_csv(text: str) -> LibraryFile:
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[FileProblem] = []
    books: list[dict] = []
    cell_problems: dict[int, list[FileProblem]] = {}
    row = 0
    try:
        header = [name.strip() for name in next(reader)]
        unknown = [name for name in header if name not in BOOK_KEYS]
        if unknown:
            problems.append(FileProblem(None, ["header"], f"Unknown columns: {', '.join(unknown)}."))
        if len(set(header)) != len(header):
            problems.append(FileProblem(None, ["header"], "A column appears twice."))
        if "title" not in header:
            problems.append(FileProblem(None, ["header"], "A title column is required."))
        if problems:
            raise LibraryFileError(problems)
        for cells in reader:
            if not cells or cells == [""]:
                continue  # a blank line
            row += 1
            if len(cells) != len(header):
                problems.append(FileProblem(row, [], f"Has {len(cells)} cells; the header has {len(header)}."))
                continue
            books.append(_csv_record(dict(zip(header, cells, strict=True)), row, cell_problems))
    except csv.Error as exc:
        problems.append(FileProblem(row + 1, [], f"Not valid CSV: {exc}."))
    if problems:
        raise LibraryFileError(problems)
    return LibraryFile(books=books, cell_problems=cell_problems)


# --- validating records ------------------------------------------------------------------------


class _Text(serializers.CharField):
    """Optional text kept exactly as written; null reads as the empty string."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_blank=True, allow_null=True, trim_whitespace=False, **kwargs)

    def validate_empty_values(self, data):
        if data is None:
            return True, ""
        return super().validate_empty_values(data)


def _count(maximum: int) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=maximum)


def _names() -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(max_length=255), required=False)


class _RecordSerializer(serializers.Serializer):
    """A record whose unknown keys are errors: a misspelt key is not skipped silently."""

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # DRF's "expected a dictionary" error
        unknown = {key: ["Unknown field."] for key in data if key not in self.fields}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **unknown})
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class _ProviderIds(_RecordSerializer):
    openlibrary_id = _Text(max_length=64)
    hardcover_id = _Text(max_length=64)
    google_id = _Text(max_length=64)
    audible_asin = _Text(max_length=20)
    mam_id = _Text(max_length=32)


class AuthorRecordSerializer(_ProviderIds):
    """An entry of the ``authors`` section."""

    name = serializers.CharField(max_length=255)
    sort_name = _Text(max_length=255)
    monitored = serializers.BooleanField(required=False)
    books_known = _count(MAX_INTEGER)


class SeriesRecordSerializer(_ProviderIds):
    """An entry of the ``series`` section; without ``primary_author`` the first author leads."""

    name = serializers.CharField(max_length=255)
    primary_author = serializers.CharField(max_length=255, required=False, allow_null=True)
    authors = _names()
    monitored = serializers.BooleanField(required=False)
    total_known = _count(MAX_INTEGER)


class BookSeriesRecordSerializer(_RecordSerializer):
    """A book's series entry; ``position_label`` becomes a ``Position``."""

    name = serializers.CharField(max_length=255)
    position_label = _Text(max_length=32)
    primary_author = serializers.CharField(max_length=255, required=False, allow_null=True)

    def validate_position_label(self, value):
        try:
            return parse_position(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code="invalid_position")

    def validate(self, attrs):
        attrs.setdefault("position_label", parse_position(None))
        return attrs


class BookRecordSerializer(_RecordSerializer):
    """A book of the file: only the keys present are set (a new book has defaults for the rest)."""

    title = serializers.CharField(max_length=500, trim_whitespace=False)
    subtitle = _Text(max_length=500)
    authors = _names()
    narrators = _names()
    series = BookSeriesRecordSerializer(many=True, required=False)
    isbn = _Text(max_length=32)
    asin = _Text(max_length=32)
    publisher = _Text(max_length=255)
    published_year = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=32767)
    published_date = serializers.DateField(required=False, allow_null=True)
    language = _Text(max_length=32)
    description = _Text()
    duration_seconds = _count(MAX_INTEGER)
    abridged = serializers.BooleanField(required=False)
    format = _Text(max_length=10)
    bitrate_kbps = _count(MAX_INTEGER)
    size_bytes = _count(MAX_BIG_INTEGER)
    abs_id = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)
    status = serializers.ChoiceField(choices=BookStatus.choices, required=False)
    locked_fields = serializers.ListField(child=serializers.ChoiceField(choices=LOCKABLE_FIELDS), required=False)
    metadata_sources = serializers.DictField(required=False)
    date_added = serializers.DateTimeField(required=False, allow_null=True)

    # Identifiers and formats are stored the way the books API stores them.
    def validate_isbn(self, value: str) -> str:
        isbn = "".join(value.split()).replace("-", "").upper()
        if len(isbn) > 13:
            raise serializers.ValidationError("An ISBN has at most 13 characters.", code="max_length")
        return isbn

    def validate_asin(self, value: str) -> str:
        asin = value.strip().upper()
        if len(asin) > 10:
            raise serializers.ValidationError("An ASIN has at most 10 characters.", code="max_length")
        return asin

    def validate_format(self, value: str) -> str:
        return value.strip().lower()

    def validate_abs_id(self, value):
        return value or None


def validation_problems(errors, loc: list | None = None) -> Iterator[tuple[list, str]]:
    """DRF's nested ``errors`` as ``(loc, message)`` pairs."""
    loc = loc or []
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from validation_problems(value, loc if key == "non_field_errors" else [*loc, key])
    elif isinstance(errors, list) and all(isinstance(item, str) for item in errors):
        for message in errors:
            yield loc, str(message)
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            yield from validation_problems(value, [*loc, index])
    else:
        yield loc, str(errors)
