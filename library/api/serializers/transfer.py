"""Inputs and the report of ``library/export/`` and ``library/import/`` (SPEC §9)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from library.transfer_format import FORMATS

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # SPEC §11: uploads ≤ 10 MiB


class LibraryExportQuery(serializers.Serializer):
    format = serializers.ChoiceField(choices=FORMATS, default="json", help_text="The file to make (default json).")


class LibraryFileSerializer(serializers.Serializer):
    """The JSON library file, for the schema: an envelope around three lists of records."""

    format = serializers.CharField(help_text="Always `mamcrawler-library`.")
    version = serializers.IntegerField()
    exported_at = serializers.DateTimeField()
    authors = serializers.ListField(child=serializers.DictField())
    series = serializers.ListField(child=serializers.DictField())
    books = serializers.ListField(child=serializers.DictField())


class LibraryImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="A library file made by the export (JSON or CSV), at most 10 MiB.")
    format = serializers.ChoiceField(
        choices=FORMATS, required=False, help_text="json or csv; by default from the file name, else its content."
    )
    dry_run = serializers.BooleanField(default=False, help_text="Report what the import would do, and change nothing.")

    def validate_file(self, upload):
        if upload.size > MAX_UPLOAD_BYTES:
            raise serializers.ValidationError("A file may have at most 10 MiB.", code="max_size")
        return upload


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}]})
class LocPartField(serializers.Field):
    def to_representation(self, value):
        return value


class LibraryImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True, help_text="The book's 1-based number in the file; null for the sections."
    )
    loc = serializers.ListField(
        child=LocPartField(), help_text='Where in the book (["isbn"]) or the file (["authors", 0, "name"]).'
    )
    msg = serializers.CharField()


class LibraryImportCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class LibraryImportReportSerializer(LibraryImportCountsSerializer):
    """Book counts at the top; records that could not be imported are skipped and listed."""

    errors = LibraryImportErrorSerializer(many=True)
    authors = LibraryImportCountsSerializer(help_text="Authors of the authors section and of the books.")
    series = LibraryImportCountsSerializer(help_text="Series of the series section and of the books.")
    dry_run = serializers.BooleanField(help_text="True when nothing was saved.")
