"""``/api/v1/books/``: the library's books and their actions (SPEC §4 Books)."""

from __future__ import annotations

from types import SimpleNamespace

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from library.api.serializers.books import (
    BookBulkInput,
    BookBulkResultSerializer,
    BookDeleteQuery,
    BookDetailSerializer,
    BookDuplicateGroupSerializer,
    BookFieldsInput,
    BookIncompleteQuery,
    BookIncompleteSerializer,
    BookSearchQuery,
    BookSerializer,
    BookStatsSerializer,
    BookWriteSerializer,
)
from library.api.serializers.metadata import (
    CorrectionOptionsInput,
    CorrectionResultSerializer,
    MetadataCorrectionSerializer,
    correction_result_data,
)
from library.filters.books import BookFilterSet
from library.models import Book
from library.selectors import books as selectors
from library.selectors.duplicates import book_duplicate_groups
from library.selectors.metadata import book_corrections
from library.services.books import (
    book_archive,
    book_bulk_apply,
    book_create,
    book_delete,
    book_lock_fields,
    book_unlock_fields,
    book_update,
)
from library.services.metadata import book_correct_metadata
from mamcrawler.accounts.choices import Role
from mamcrawler.api.filters import validated_query
from mamcrawler.api.permissions import has_role
from mamcrawler.api.viewsets import ModelViewSet


class FormatIsAFilterNegotiation(DefaultContentNegotiation):
    """Content negotiation that leaves ``?format=`` alone: on books it filters by audio format.

    DRF otherwise reads ``format`` as the renderer to use (``URL_FORMAT_OVERRIDE``) and
    answers ``?format=mp3`` with 404.
    """

    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)


@extend_schema_view(
    list=extend_schema(summary="List books"),
    retrieve=extend_schema(summary="A book with its files"),
    create=extend_schema(summary="Add a book", request=BookWriteSerializer, responses={201: BookDetailSerializer}),
    update=extend_schema(summary="Replace a book", request=BookWriteSerializer, responses=BookDetailSerializer),
    partial_update=extend_schema(
        summary="Change some fields of a book", request=BookWriteSerializer, responses=BookDetailSerializer
    ),
    destroy=extend_schema(
        summary="Archive a book (or delete it for good with hard=true, admins only)",
        parameters=[OpenApiParameter("hard", OpenApiTypes.BOOL, description="Delete for good (admin role).")],
        responses={204: None},
    ),
)
class BookViewSet(ModelViewSet):
    """Books: filters, search, ordering; delete archives unless an admin asks for ``hard=true``."""

    queryset = Book.objects.all()
    serializer_class = BookSerializer
    filterset_class = BookFilterSet
    search_fields = selectors.BOOK_SEARCH_FIELDS
    content_negotiation_class = FormatIsAFilterNegotiation
    serializers_by_action = {
        "retrieve": BookDetailSerializer,
        "create": BookWriteSerializer,
        "update": BookWriteSerializer,
        "partial_update": BookWriteSerializer,
    }

    def get_queryset(self):
        if self.action == "list":
            return selectors.book_list_queryset()
        if self.action == "retrieve":
            return selectors.book_detail_queryset()
        return Book.objects.all()

    def get_serializer_class(self):
        return self.serializers_by_action.get(self.action, super().get_serializer_class())

    def list(self, request, *args, **kwargs):
        """Filters, ordering and pagination pick the page's ids; the rows come from ``book_page_rows``."""
        ids = self.paginate_queryset(self.filter_queryset(self.get_queryset()).values_list("pk", flat=True))
        books = selectors.book_page_rows(list(ids))
        return self.get_paginated_response(BookSerializer(books, many=True, context=self.get_serializer_context()).data)

    def _detail(self, book: Book, *, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.book_get(book_id=book.pk)
        return Response(BookDetailSerializer(fresh, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        book = book_create(**serializer.to_service_arguments(), user=request.user)
        return self._detail(book, status_code=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        book = book_update(book=serializer.instance, **serializer.to_service_arguments(), user=request.user)
        return self._detail(book)

    def destroy(self, request, *args, **kwargs):
        hard = validated_query(BookDeleteQuery, request)["hard"]
        if hard and not has_role(request, Role.ADMIN):
            raise PermissionDenied("Only admins may delete books for good.")
        book = self.get_object()
        if hard:
            book_delete(book=book)
        else:
            book_archive(book=book)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Search books, best matches first",
        parameters=[BookSearchQuery],
        responses=BookSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[], throttle_tier="search")
    def search(self, request):
        text = validated_query(BookSearchQuery, request)["q"]
        return self.paginated_response(selectors.book_search(text=text), BookSerializer)

    @extend_schema(
        summary="Active books below a completeness threshold, with what they miss",
        parameters=[BookIncompleteQuery],
        responses=BookIncompleteSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[])
    def incomplete(self, request):
        threshold = validated_query(BookIncompleteQuery, request).get("threshold", settings.INCOMPLETE_THRESHOLD)
        return self.paginated_response(selectors.book_incomplete(threshold=threshold), BookIncompleteSerializer)

    @extend_schema(
        summary="Groups of probable duplicates (same ISBN/ASIN, or close title and same first author)",
        responses=BookDuplicateGroupSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[])
    def duplicates(self, request):
        groups = self.paginate_queryset(book_duplicate_groups())
        books = selectors.book_in_bulk(book_ids={book_id for group in groups for book_id in group.book_ids})
        results = [
            {"reason": group.reason, "key": group.key, "books": [books[book_id] for book_id in group.book_ids]}
            for group in groups
        ]
        return self.get_paginated_response(BookDuplicateGroupSerializer(results, many=True).data)

    @extend_schema(summary="Library figures", responses=BookStatsSerializer)
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def stats(self, request):
        return Response(BookStatsSerializer(selectors.book_stats()).data)

    @extend_schema(
        summary="Archive, restore, set status, lock or unlock many books", responses=BookBulkResultSerializer
    )
    @action(detail=False, methods=["post"], filter_backends=[], serializer_class=BookBulkInput)
    def bulk(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        changed = book_bulk_apply(
            book_ids=data["ids"], action=data["action"], status=data.get("status"), fields=data.get("fields", ())
        )
        result = {"action": data["action"], "requested": len(data["ids"]), "changed": changed}
        return Response(BookBulkResultSerializer(result).data)

    @extend_schema(summary="Lock fields against automatic correction", responses=BookDetailSerializer)
    @action(detail=True, methods=["post"], serializer_class=BookFieldsInput)
    def lock(self, request, pk=None):
        return self._change_locks(request, book_lock_fields)

    @extend_schema(summary="Unlock fields", responses=BookDetailSerializer)
    @action(detail=True, methods=["post"], serializer_class=BookFieldsInput)
    def unlock(self, request, pk=None):
        return self._change_locks(request, book_unlock_fields)

    @extend_schema(
        summary="The book's metadata history, newest first", responses=MetadataCorrectionSerializer(many=True)
    )
    @action(detail=True, methods=["get"], url_path="metadata-history", filter_backends=[])
    def metadata_history(self, request, pk=None):
        return self.paginated_response(book_corrections(book=self.get_object()), MetadataCorrectionSerializer)

    @extend_schema(
        summary="Correct the book's metadata from the providers now",
        request=CorrectionOptionsInput,
        responses=CorrectionResultSerializer,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="refresh-metadata",
        throttle_tier="metadata",
        serializer_class=CorrectionOptionsInput,
    )
    def refresh_metadata(self, request, pk=None):
        book = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = book_correct_metadata(book=book, source_user=request.user, **serializer.options())
        return Response(correction_result_data(result, self.get_serializer_context()))

    def _change_locks(self, request, service) -> Response:
        """``lock``/``unlock``: the book first (404 before 422), then the fields, then ``service``."""
        book = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        service(books=[book], fields=serializer.validated_data["fields"])
        return self._detail(book)
