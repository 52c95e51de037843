"""``/api/v1/library/export/`` and ``/api/v1/library/import/``: the library as a file (SPEC §9)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotAcceptable, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from library.api.serializers.transfer import (
    MAX_UPLOAD_BYTES,
    LibraryExportQuery,
    LibraryFileSerializer,
    LibraryImportInput,
    LibraryImportReportSerializer,
)
from library.api.views.books import FormatIsAFilterNegotiation
from library.services.transfer import export_filename, library_export_stream, library_import
from library.transfer_format import FileProblem, LibraryFileError
from mamcrawler.api.filters import validated_query
from mamcrawler.api.throttling import TieredThrottleMixin
from mamcrawler.audit.api.mixins import AuditedViewMixin

TAGS = ["library"]
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "csv": "text/csv; charset=utf-8"}
FILE_RESPONSE = "The library file, as an attachment (JSON or CSV as asked by `format`)."
# Room for the multipart envelope and the small fields around the file.
_ENVELOPE_BYTES = 64 * 1024


class FileNegotiation(FormatIsAFilterNegotiation):
    """``?format=`` names the file to make, not a renderer; an ``Accept`` the renderers do not
    offer (``text/csv``) still gets the file, and errors in JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


class LibraryExportView(TieredThrottleMixin, APIView):
    """Read tier, viewers: the whole library, streamed."""

    content_negotiation_class = FileNegotiation

    @extend_schema(
        tags=TAGS,
        summary="Download the library as a JSON or CSV file",
        description=(
            "JSON: `{format: mamcrawler-library, version: 1, exported_at, authors, series, books}`; "
            'CSV: one row per book, lists joined with " | ", series written "Name #label". '
            "Importing the file again reproduces the library. Throttle tier: read."
        ),
        parameters=[LibraryExportQuery],
        responses={
            (200, "application/json"): OpenApiResponse(LibraryFileSerializer, description=FILE_RESPONSE),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description=FILE_RESPONSE),
        },
    )
    def get(self, request):
        fmt = validated_query(LibraryExportQuery, request)["format"]
        response = StreamingHttpResponse(library_export_stream(fmt=fmt), content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{export_filename(fmt=fmt)}"'
        return response


class LibraryImportView(AuditedViewMixin, TieredThrottleMixin, APIView):
    """Upload tier, editors: a library file is matched against the library and imported."""

    throttle_tier = "upload"
    parser_classes = [MultiPartParser]
    content_negotiation_class = FileNegotiation

    @extend_schema(
        tags=TAGS,
        summary="Import a library file (JSON or CSV) made by the export",
        description=(
            "Books are matched by abs_id, then ISBN, then ASIN, then title and first author; "
            "matches are updated, the rest created. Records that are invalid are skipped and "
            "listed in `errors`; a file that cannot be read at all answers 422 with where it "
            'breaks (`["body", "file", "row", 3]`). Throttle tier: upload.'
        ),
        request={"multipart/form-data": LibraryImportInput},
        responses={200: LibraryImportReportSerializer},
    )
    def post(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > MAX_UPLOAD_BYTES + _ENVELOPE_BYTES:
            raise ValidationError({"file": ["A file may have at most 10 MiB."]}, code="max_size")
        serializer = LibraryImportInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        try:
            report = library_import(
                data=upload.read(), fmt=data.get("format"), filename=upload.name or "", dry_run=data["dry_run"]
            )
        except LibraryFileError as exc:
            raise ValidationError({"file": _nested(exc.problems)}, code="malformed_file")
        return Response(LibraryImportReportSerializer(report.as_dict()).data)


def _nested(problems: list[FileProblem]) -> dict:
    """Problems as DRF's nested error detail, so that each ``loc`` reads
    ``["body", "file", "row", 3, "isbn"]`` (or ``["body", "file", "header"]``)."""
    root: dict = {}
    for problem in problems:
        node = root
        for part in [*(["row", problem.row] if problem.row is not None else []), *problem.loc]:
            node = node.setdefault(part, {})
        node.setdefault("non_field_errors", []).append(problem.msg)
    return root
