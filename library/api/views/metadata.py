"""``/api/v1/metadata/``: correction history, corrections, lookups and metadata figures (SPEC §4 Metadata).

Every route is in the ``metadata`` throttle tier except ``lookup/`` (``search``).  Viewers
read, editors write (correct, revert, run jobs, clean the provider cache).
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from library.api.serializers.books import BookIncompleteQuery, BookIncompleteSerializer
from library.api.serializers.metadata import (
    BySourceQuery,
    BySourceSerializer,
    CleanupQuery,
    CleanupResultSerializer,
    CorrectAllInput,
    CorrectBookInput,
    CorrectionResultSerializer,
    CorrectionRevertInput,
    CorrectionRevertResultSerializer,
    CorrectRecentInput,
    LookupQuery,
    LookupResultSerializer,
    MetadataCorrectionSerializer,
    MetadataStatusSerializer,
    ProviderStatusSerializer,
    correction_result_data,
    lookup_representation,
)
from library.filters.metadata import MetadataCorrectionFilterSet
from library.models import Book
from library.providers.registry import provider_cache_cleanup, providers_status
from library.selectors import books as book_selectors
from library.selectors import metadata as selectors
from library.services.metadata import book_correct_metadata, correction_revert, metadata_lookup
from mamcrawler.api.filters import validated_query
from mamcrawler.api.viewsets import BaseViewSet, ReadOnlyModelViewSet
from scheduler.api.serializers import JobRunDetailSerializer, RunJobQuery
from scheduler.choices import Trigger
from scheduler.runner import job_start

TAGS = ["metadata"]
JOB = "metadata_refresh"
CONFLICT = OpenApiResponse(description="The field changed again since, or is locked (`conflict`); use `force`.")
RUNNING = OpenApiResponse(description="A metadata_refresh run is queued or running (`conflict`).")


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Metadata correction history, newest first"),
    retrieve=extend_schema(tags=TAGS, summary="A metadata correction"),
)
class MetadataCorrectionViewSet(ReadOnlyModelViewSet):
    """Every change of a book field, by a provider, a job or a person; kept forever."""

    queryset = selectors.correction_list_queryset()
    serializer_class = MetadataCorrectionSerializer
    filterset_class = MetadataCorrectionFilterSet
    search_fields = ["book__title", "field", "reason"]
    throttle_tier = "metadata"

    @extend_schema(
        tags=TAGS,
        summary="Give the field its old value back (refused if it changed again since, unless force)",
        request=CorrectionRevertInput,
        responses={200: CorrectionRevertResultSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[], serializer_class=CorrectionRevertInput)
    def revert(self, request, pk=None):
        correction = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = correction_revert(correction=correction, user=request.user, force=serializer.validated_data["force"])
        body = {
            "reverted": selectors.correction_get(correction_id=result.reverted.pk),
            "correction": selectors.correction_get(correction_id=result.correction.pk) if result.correction else None,
        }
        return Response(CorrectionRevertResultSerializer(body).data)


class MetadataViewSet(BaseViewSet):
    """Corrections, lookups and figures that are not one resource."""

    throttle_tier = "metadata"
    filter_backends = []
    queryset = Book.objects.none()

    def _run_job(self, request, params: dict) -> Response:
        wait = validated_query(RunJobQuery, request)["wait"]
        run = job_start(name=JOB, trigger=Trigger.API, user=request.user, params=params, wait=wait)
        return Response(
            JobRunDetailSerializer(run).data, status=status.HTTP_200_OK if wait else status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        tags=TAGS,
        summary="Correct one book's metadata from the providers now",
        request=CorrectBookInput,
        responses={
            200: CorrectionResultSerializer,
            404: OpenApiResponse(description="No book with that `book_id`."),
        },
    )
    @action(detail=False, methods=["post"], url_path="correct-book", serializer_class=CorrectBookInput)
    def correct_book(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        book = get_object_or_404(Book, pk=serializer.validated_data["book_id"])
        result = book_correct_metadata(book=book, source_user=request.user, **serializer.options())
        return Response(correction_result_data(result, self.get_serializer_context()))

    @extend_schema(
        tags=TAGS,
        summary="Correct the least recently checked books (job; 202, or 200 when wait=true)",
        parameters=[RunJobQuery],
        request=CorrectAllInput,
        responses={202: JobRunDetailSerializer, 200: JobRunDetailSerializer, 409: RUNNING},
    )
    @action(detail=False, methods=["post"], url_path="correct-all", serializer_class=CorrectAllInput)
    def correct_all(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._run_job(request, serializer.params())

    @extend_schema(
        tags=TAGS,
        summary="Correct the books added or changed in the last days (job; 202, or 200 when wait=true)",
        parameters=[RunJobQuery],
        request=CorrectRecentInput,
        responses={202: JobRunDetailSerializer, 200: JobRunDetailSerializer, 409: RUNNING},
    )
    @action(detail=False, methods=["post"], url_path="correct-recent", serializer_class=CorrectRecentInput)
    def correct_recent(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._run_job(request, serializer.params())

    @extend_schema(
        tags=TAGS,
        summary="Completeness of the active books: buckets, books below the threshold, fill rate per field",
        responses=MetadataStatusSerializer,
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def status(self, request):
        return Response(
            MetadataStatusSerializer(selectors.metadata_status(threshold=settings.INCOMPLETE_THRESHOLD)).data
        )

    @extend_schema(
        tags=TAGS,
        summary="Corrections per source over the last days",
        parameters=[BySourceQuery],
        responses=BySourceSerializer,
    )
    @action(detail=False, methods=["get"], url_path="by-source", pagination_class=None)
    def by_source(self, request):
        days = validated_query(BySourceQuery, request)["days"]
        return Response(BySourceSerializer(selectors.corrections_by_source(days=days)).data)

    @extend_schema(
        tags=TAGS,
        summary="Active books below a completeness threshold, with what they miss",
        parameters=[BookIncompleteQuery],
        responses=BookIncompleteSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def incomplete(self, request):
        threshold = validated_query(BookIncompleteQuery, request).get("threshold", settings.INCOMPLETE_THRESHOLD)
        return self.paginated_response(book_selectors.book_incomplete(threshold=threshold), BookIncompleteSerializer)

    @extend_schema(
        tags=TAGS,
        summary="Each metadata provider: enabled, base URL, health, error rate, cache entries, circuit",
        responses=ProviderStatusSerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def providers(self, request):
        return Response(ProviderStatusSerializer(providers_status(), many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Ask the providers about a book and merge their answers (writes nothing)",
        parameters=[LookupQuery],
        responses=LookupResultSerializer,
    )
    @action(detail=False, methods=["get"], throttle_tier="search", pagination_class=None)
    def lookup(self, request):
        query = validated_query(LookupQuery, request)
        result = metadata_lookup(
            isbn=query.get("isbn", "").strip(),
            asin=query.get("asin", "").strip(),
            title=query.get("title", "").strip(),
            author=query.get("author", "").strip(),
            providers=query.get("providers"),
        )
        return Response(LookupResultSerializer(lookup_representation(result)).data)

    @extend_schema(
        tags=TAGS,
        summary="Delete provider-cache entries (older than days, or expired); never correction history",
        parameters=[CleanupQuery],
        responses={200: CleanupResultSerializer},
    )
    @action(detail=False, methods=["delete"], pagination_class=None)
    def cleanup(self, request):
        days = validated_query(CleanupQuery, request).get("days")
        deleted = provider_cache_cleanup(older_than_days=days)
        return Response(CleanupResultSerializer({"deleted": deleted, "older_than_days": days}).data)
