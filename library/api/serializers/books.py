"""Book representations (SPEC §4.1) and the small input serializers of the book actions.

Reading is the hot path of the API (the list must keep up with hand-written SQL), so the
read serializers declare their fields for the schema and the browsable API but build each
row by hand from the prefetched relations (see ``library.selectors.books``) instead of
running one nested serializer per author, narrator and series entry.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.db.models import Manager
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from library.api.serializers.nested import BriefSerializer, author_briefs
from library.choices import COMPLETENESS_FIELDS, LOCKABLE_FIELDS, BookStatus
from library.models import Author, Book, Narrator, Series
from library.positions import format_position, parse_position
from library.selectors import books as selectors
from library.services.books import SCALAR_FIELDS, BulkAction, SeriesRef

MAX_PEOPLE = 50
MAX_SERIES = 20
MAX_BULK_IDS = 1000
MIN_YEAR = 1000
MAX_YEAR = 2100
MAX_DESCRIPTION = 50_000
MAX_INTEGER = 2_147_483_647
MAX_ID = 2**63 - 1
# PostgreSQL's integer column stops at MAX_INTEGER, bigint ids at MAX_ID.
ISO_MICROSECONDS_Z = "%Y-%m-%dT%H:%M:%S.%fZ"  # settings.REST_FRAMEWORK["DATETIME_FORMAT"]


def _datetime(value: datetime | None) -> str | None:
    """``DATETIME_FORMAT`` in UTC, without DRF's per-value time-zone lookup (hot path)."""
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(UTC)
    output_format = api_settings.DATETIME_FORMAT
    if output_format == ISO_MICROSECONDS_Z:  # the project's format, without strftime parsing it each time
        text = value.isoformat(timespec="microseconds")
        return (text[:-6] if value.tzinfo is not None else text) + "Z"  # without "+00:00"
    if output_format is None:
        return value
    if output_format.lower() == ISO_8601:
        return value.isoformat().replace("+00:00", "Z")
    return value.strftime(output_format)


# --- read ------------------------------------------------------------------------------------


class BookSeriesEntrySerializer(serializers.Serializer):
    """A book's place in one series."""

    id = serializers.IntegerField(read_only=True, help_text="The series id.")
    name = serializers.CharField(read_only=True)
    position = serializers.CharField(
        read_only=True, allow_null=True, help_text='Sort position as a decimal string ("2.5"), or null.'
    )
    position_label = serializers.CharField(read_only=True, help_text='As written, e.g. "3-4" for an omnibus.')


class BookFileSerializer(serializers.Serializer):
    path = serializers.CharField(read_only=True)
    size_bytes = serializers.IntegerField(read_only=True)
    format = serializers.CharField(read_only=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)
    bitrate_kbps = serializers.IntegerField(read_only=True, allow_null=True)
    codec = serializers.CharField(read_only=True)
    chapters = serializers.IntegerField(read_only=True, allow_null=True)


# SPEC §4.1 order: the id, every editable field (the lockable ones), then what the library keeps.
BOOK_READ_FIELDS = (
    "id",
    *LOCKABLE_FIELDS,
    "size_bytes",
    "abs_id",
    "status",
    "metadata_completeness",
    "metadata_sources",
    "locked_fields",
    "date_added",
    "updated_at",
)


class BookListSerializer(serializers.ListSerializer):
    """Many books: attaches the page's relations in three queries, then builds each row.

    (``book_list_queryset`` has no prefetches; see ``selectors.book_attach_relations``.)
    """

    def to_representation(self, data) -> list[dict]:
        books = selectors.book_attach_relations(list(data.all() if isinstance(data, Manager) else data))
        row = self.child.to_representation
        return [row(book) for book in books]


class BookSerializer(serializers.ModelSerializer):
    """A book as listed: scalar fields plus its authors, narrators and series entries."""

    authors = BriefSerializer(many=True, read_only=True, help_text="In credit order.")
    narrators = BriefSerializer(many=True, read_only=True)
    series = BookSeriesEntrySerializer(many=True, read_only=True)
    metadata_sources = serializers.DictField(
        read_only=True, child=serializers.DictField(), help_text='Field → {"source", "at"}.'
    )
    locked_fields = serializers.ListField(read_only=True, child=serializers.CharField())

    class Meta:
        model = Book
        fields = BOOK_READ_FIELDS
        read_only_fields = BOOK_READ_FIELDS
        list_serializer_class = BookListSerializer

    def to_representation(self, book: Book) -> dict:
        narrators = selectors.relation_list(book, selectors.NARRATORS)
        entries = selectors.relation_list(book, selectors.SERIES_ENTRIES)
        return {
            "id": book.id,
            "title": book.title,
            "subtitle": book.subtitle,
            "authors": author_briefs(book),
            "narrators": [{"id": narrator.id, "name": narrator.name} for narrator in narrators],
            "series": [
                {
                    "id": entry.series_id,
                    "name": entry.series_name,
                    "position": format_position(entry.position),
                    "position_label": entry.position_label,
                }
                for entry in entries
            ],
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
            "metadata_completeness": book.metadata_completeness,
            "metadata_sources": book.metadata_sources,
            "locked_fields": book.locked_fields,
            "date_added": _datetime(book.date_added),
            "updated_at": _datetime(book.updated_at),
        }


class BookDetailSerializer(BookSerializer):
    """A single book: the list form plus its audio files."""

    files = BookFileSerializer(many=True, read_only=True)

    class Meta(BookSerializer.Meta):
        fields = (*BOOK_READ_FIELDS, "files")
        read_only_fields = fields

    def to_representation(self, book: Book) -> dict:
        data = super().to_representation(book)
        data["files"] = [
            {
                "path": file.path,
                "size_bytes": file.size_bytes,
                "format": file.format,
                "duration_seconds": file.duration_seconds,
                "bitrate_kbps": file.bitrate_kbps,
                "codec": file.codec,
                "chapters": file.chapters,
            }
            for file in selectors.relation_list(book, selectors.FILES)
        ]
        return data


class BookIncompleteSerializer(BookSerializer):
    """A book with the completeness fields it leaves empty."""

    missing_fields = serializers.ListField(
        read_only=True, child=serializers.ChoiceField(choices=COMPLETENESS_FIELDS), help_text="Empty fields."
    )

    class Meta(BookSerializer.Meta):
        fields = (*BOOK_READ_FIELDS, "missing_fields")
        read_only_fields = fields

    def to_representation(self, book: Book) -> dict:
        data = super().to_representation(book)
        data["missing_fields"] = selectors.book_missing_fields(book)
        return data


# Not the brief book form (``nested.BookSummarySerializer``): duplicates are told apart by
# identifiers and size, and the duplicates test pins exactly these keys (no ``status``).
class BookBriefSerializer(serializers.Serializer):
    """The few fields that tell two copies of a book apart."""

    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    authors = BriefSerializer(many=True, read_only=True)
    isbn = serializers.CharField(read_only=True)
    asin = serializers.CharField(read_only=True)
    format = serializers.CharField(read_only=True)
    duration_seconds = serializers.IntegerField(read_only=True, allow_null=True)
    size_bytes = serializers.IntegerField(read_only=True, allow_null=True)
    date_added = serializers.DateTimeField(read_only=True)

    def to_representation(self, book: Book) -> dict:
        return {
            "id": book.id,
            "title": book.title,
            "authors": author_briefs(book),
            "isbn": book.isbn,
            "asin": book.asin,
            "format": book.format,
            "duration_seconds": book.duration_seconds,
            "size_bytes": book.size_bytes,
            "date_added": _datetime(book.date_added),
        }


class BookDuplicateGroupSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=["isbn", "asin", "title"], read_only=True)
    key = serializers.CharField(read_only=True, help_text="The shared ISBN/ASIN, or author id and normalised title.")
    books = BookBriefSerializer(many=True, read_only=True)


class BookStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Every book, whatever its status.")
    active = serializers.IntegerField(help_text="Active books; the figures below describe them.")
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_format = serializers.DictField(child=serializers.IntegerField())
    by_language = serializers.DictField(child=serializers.IntegerField(), help_text="The 20 most common.")
    total_duration_seconds = serializers.IntegerField()
    total_size_bytes = serializers.IntegerField()
    average_completeness = serializers.FloatField(allow_null=True)
    with_series = serializers.IntegerField()
    without_series = serializers.IntegerField()
    added_last_30_days = serializers.IntegerField()


class BookBulkResultSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=BulkAction.ALL)
    requested = serializers.IntegerField(help_text="Distinct ids sent.")
    changed = serializers.IntegerField(help_text="Books that actually changed.")


# --- write -----------------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID},
            {"type": "string", "minLength": 1, "maxLength": 255},
        ]
    }
)
class RefField(serializers.Field):
    """An existing object's id (integer) or a name (string, created when unknown)."""

    default_error_messages = {
        "invalid": "Give an id (integer) or a name (string).",
        "blank": "A name may not be blank.",
        "max_length": "A name has at most {max_length} characters.",
    }
    max_length = 255

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            if not 1 <= data <= MAX_ID:
                self.fail("invalid")
            return data
        if not isinstance(data, str):
            self.fail("invalid")
        name = " ".join(data.split())
        if not name:
            self.fail("blank")
        if len(name) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return name

    def to_representation(self, value):
        return value


class BookSeriesInputSerializer(serializers.Serializer):
    """A wanted series membership: the series by id or name, and the position label."""

    series = RefField()
    position = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=32,
        help_text='A number ("2", "2.5") or a range ("3-4"); empty when unknown.',
    )

    def validate_position(self, value):
        try:
            return parse_position(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code="invalid_position") from exc


def _resolve_refs(refs: list, model, noun: str) -> list:
    """Replace ids by objects (one query); unknown ids fail at their index."""
    ids = {ref for ref in refs if isinstance(ref, int)}
    found = model.objects.in_bulk(ids) if ids else {}
    errors = {
        index: [f"Unknown {noun} id {ref}."]
        for index, ref in enumerate(refs)
        if isinstance(ref, int) and ref not in found
    }
    if errors:
        raise serializers.ValidationError(errors, code="does_not_exist")
    return [found[ref] if isinstance(ref, int) else ref for ref in refs]


class BookWriteSerializer(serializers.ModelSerializer):
    """Create or change a book; ``authors``/``narrators`` take ids or names, ``series`` ids or names."""

    authors = serializers.ListField(
        child=RefField(), required=False, max_length=MAX_PEOPLE, write_only=True, help_text="Ids or names, in order."
    )
    narrators = serializers.ListField(
        child=RefField(), required=False, max_length=MAX_PEOPLE, write_only=True, help_text="Ids or names."
    )
    series = BookSeriesInputSerializer(many=True, required=False, max_length=MAX_SERIES, write_only=True)
    isbn = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="ISBN-10 or ISBN-13; hyphens and spaces ignored."
    )
    asin = serializers.CharField(required=False, allow_blank=True, max_length=10, help_text="10 letters or digits.")
    published_year = serializers.IntegerField(required=False, allow_null=True, min_value=MIN_YEAR, max_value=MAX_YEAR)
    status = serializers.ChoiceField(choices=BookStatus.choices, required=False)

    class Meta:
        model = Book
        fields = ("authors", "narrators", "series", *SCALAR_FIELDS)
        extra_kwargs = {
            "abs_id": {"allow_blank": True},
            "description": {"max_length": MAX_DESCRIPTION},
            # PostgreSQL integers stop here; SQLite would take more and PostgreSQL then fail.
            "duration_seconds": {"max_value": MAX_INTEGER},
            "bitrate_kbps": {"max_value": MAX_INTEGER},
        }

    def validate_isbn(self, value: str) -> str:
        digits = re.sub(r"[\s-]", "", value).upper()
        if digits and not re.fullmatch(r"\d{13}|\d{9}[\dX]", digits):
            raise serializers.ValidationError("An ISBN has 10 or 13 digits (ISBN-10 may end in X).", code="invalid")
        return digits

    def validate_asin(self, value: str) -> str:
        asin = value.strip().upper()
        if asin and not re.fullmatch(r"[A-Z0-9]{10}", asin):
            raise serializers.ValidationError("An ASIN is 10 letters or digits.", code="invalid")
        return asin

    def validate_abs_id(self, value):
        return value or None

    def validate_format(self, value: str) -> str:
        return value.strip().lower()

    def validate_authors(self, refs: list) -> list[Author | str]:
        return _resolve_refs(refs, Author, "author")

    def validate_narrators(self, refs: list) -> list[Narrator | str]:
        return _resolve_refs(refs, Narrator, "narrator")

    def validate_series(self, items: list[dict]) -> list[SeriesRef]:
        try:
            resolved = _resolve_refs([item["series"] for item in items], Series, "series")
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(
                {index: {"series": messages} for index, messages in exc.detail.items()}, code="does_not_exist"
            ) from exc
        return [
            # An absent position is the empty one (the book is in the series, place unknown).
            SeriesRef(series=series, position=item.get("position") or parse_position(None))
            for series, item in zip(resolved, items, strict=True)
        ]

    def to_service_arguments(self) -> dict:
        """``fields``, ``authors``, ``narrators`` and ``series`` for ``book_create``/``book_update``."""
        data = dict(self.validated_data)
        relations = {name: data.pop(name) for name in ("authors", "narrators", "series") if name in data}
        return {"fields": data, **relations}

    def to_representation(self, book: Book) -> dict:
        """The book in this serializer's own shape (the browsable API's edit form)."""
        data = super().to_representation(book)
        data["authors"] = [link.author_id for link in selectors.relation_list(book, selectors.AUTHOR_LINKS)]
        data["narrators"] = [narrator.id for narrator in selectors.relation_list(book, selectors.NARRATORS)]
        data["series"] = [
            {"series": entry.series_id, "position": entry.position_label}
            for entry in selectors.relation_list(book, selectors.SERIES_ENTRIES)
        ]
        return data


# --- action inputs ----------------------------------------------------------------------------


class BookFieldsInput(serializers.Serializer):
    fields = serializers.ListField(
        child=serializers.ChoiceField(choices=LOCKABLE_FIELDS), min_length=1, max_length=len(LOCKABLE_FIELDS)
    )


class BookBulkInput(serializers.Serializer):
    """``{"ids", "action", "status"?, "fields"?}`` for ``POST books/bulk/``."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=MAX_BULK_IDS,
        help_text="Book ids.",
    )
    action = serializers.ChoiceField(choices=BulkAction.ALL)
    status = serializers.ChoiceField(choices=BookStatus.choices, required=False, help_text="For set_status.")
    fields = serializers.ListField(
        child=serializers.ChoiceField(choices=LOCKABLE_FIELDS),
        required=False,
        min_length=1,
        help_text="For lock and unlock.",
    )

    def validate_ids(self, ids: list[int]) -> list[int]:
        unique = list(dict.fromkeys(ids))
        known = set(Book.objects.filter(id__in=unique).values_list("id", flat=True))
        unknown = [book_id for book_id in unique if book_id not in known]
        if unknown:
            shown = ", ".join(map(str, unknown[:20]))
            raise serializers.ValidationError(f"Unknown book ids: {shown}.", code="does_not_exist")
        return unique

    def validate(self, attrs):
        action = attrs["action"]
        if action == BulkAction.SET_STATUS and "status" not in attrs:
            raise serializers.ValidationError({"status": ["Required for set_status."]}, code="required")
        if action in (BulkAction.LOCK, BulkAction.UNLOCK) and "fields" not in attrs:
            raise serializers.ValidationError({"fields": [f"Required for {action}."]}, code="required")
        return attrs


class BookSearchQuery(serializers.Serializer):
    q = serializers.CharField(max_length=200, help_text="Words to find in title, people, series, ISBN or ASIN.")


class BookIncompleteQuery(serializers.Serializer):
    threshold = serializers.IntegerField(
        required=False, min_value=0, max_value=100, help_text="Completeness below this (default 80)."
    )


class BookDeleteQuery(serializers.Serializer):
    hard = serializers.BooleanField(required=False, default=False, help_text="Delete for good (admins only).")
