"""``/api/v1/authors/``: author CRUD, their books and series, completion, favourites, merge."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from library.api.serializers.authors import (
    AuthorCompletionSerializer,
    AuthorInput,
    AuthorMergeInput,
    AuthorMergeResultSerializer,
    AuthorSerializer,
    FavoritesQuery,
)
from library.api.serializers.gaps import GapSerializer
from library.api.serializers.nested import BookSummarySerializer
from library.api.serializers.series import CompletionSummarySerializer, SeriesSerializer
from library.filters.authors import AuthorFilterSet
from library.models import Author
from library.selectors.authors import (
    author_books,
    author_completion,
    author_completion_summary,
    author_favorites,
)
from library.selectors.gaps import gaps_of_author
from library.selectors.series import series_of_author
from library.services.authors import (
    author_create,
    author_delete,
    author_merge,
    author_set_monitored,
    author_update,
)
from library.services.completion import author_recalculate
from mamcrawler.api.filters import validated_query
from mamcrawler.api.viewsets import ModelViewSet

NAME_TAKEN = OpenApiResponse(description="Another author has this name once normalised (`conflict`).")
HAS_BOOKS = OpenApiResponse(description="The author still has books; merge instead (`conflict`).")


@extend_schema_view(
    list=extend_schema(summary="List authors"),
    retrieve=extend_schema(summary="Get an author"),
    create=extend_schema(
        summary="Create an author", request=AuthorInput, responses={201: AuthorSerializer, 409: NAME_TAKEN}
    ),
    update=extend_schema(
        summary="Replace an author", request=AuthorInput, responses={200: AuthorSerializer, 409: NAME_TAKEN}
    ),
    partial_update=extend_schema(
        summary="Change an author", request=AuthorInput, responses={200: AuthorSerializer, 409: NAME_TAKEN}
    ),
    destroy=extend_schema(summary="Delete an author without books", responses={204: None, 409: HAS_BOOKS}),
)
class AuthorViewSet(ModelViewSet):
    queryset = Author.objects.all()
    serializer_class = AuthorSerializer
    filterset_class = AuthorFilterSet
    search_fields = ["name"]

    def get_serializer_class(self):
        # Writes take plain fields (also the browsable API's form); reads answer the representation.
        if self.action in ("create", "update", "partial_update"):
            return AuthorInput
        return super().get_serializer_class()

    def _validated(self, serializer_class, data, **kwargs) -> dict:
        serializer = serializer_class(data=data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _respond(self, author: Author, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(AuthorSerializer(author, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request, *args, **kwargs):
        author = author_create(**self._validated(AuthorInput, request.data))
        return self._respond(author, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        author = self.get_object()
        data = self._validated(AuthorInput, request.data, instance=author, partial=kwargs.get("partial", False))
        return self._respond(author_update(author=author, **data))

    def destroy(self, request, *args, **kwargs):
        author_delete(author=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Books by an author, by title", responses=BookSummarySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def books(self, request, pk=None):
        return self.paginated_response(author_books(author=self.get_object()), BookSummarySerializer)

    @extend_schema(summary="Series by an author", responses=SeriesSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def series(self, request, pk=None):
        return self.paginated_response(series_of_author(author=self.get_object()), SeriesSerializer)

    @extend_schema(summary="Gaps of an author, most wanted first", responses=GapSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def gaps(self, request, pk=None):
        return self.paginated_response(gaps_of_author(author=self.get_object()), GapSerializer)

    @extend_schema(summary="An author's completion and their series'", responses=AuthorCompletionSerializer)
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def completion(self, request, pk=None):
        return Response(AuthorCompletionSerializer(author_completion(author=self.get_object())).data)

    @extend_schema(summary="Recount an author from their books", request=None, responses=AuthorSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def recalculate(self, request, pk=None):
        return self._respond(author_recalculate(author=self.get_object()))

    @extend_schema(summary="Follow an author", request=None, responses=AuthorSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def monitor(self, request, pk=None):
        return self._respond(author_set_monitored(author=self.get_object(), monitored=True))

    @extend_schema(summary="Stop following an author", request=None, responses=AuthorSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def unmonitor(self, request, pk=None):
        return self._respond(author_set_monitored(author=self.get_object(), monitored=False))

    @extend_schema(
        summary="Authors with many owned books",
        parameters=[FavoritesQuery],
        responses=AuthorSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[])
    def favorites(self, request):
        min_books = validated_query(FavoritesQuery, request)["min_books"]
        return self.paginated_response(author_favorites(min_books=min_books), AuthorSerializer)

    @extend_schema(summary="Author counts per completion status", responses=CompletionSummarySerializer)
    @action(detail=False, methods=["get"], url_path="completion-summary", filter_backends=[], pagination_class=None)
    def completion_summary(self, request):
        return Response(CompletionSummarySerializer(author_completion_summary()).data)

    @extend_schema(
        summary="Merge duplicate authors into one",
        request=AuthorMergeInput,
        responses=AuthorMergeResultSerializer,
    )
    @action(
        detail=False, methods=["post"], filter_backends=[], pagination_class=None, serializer_class=AuthorMergeInput
    )
    def merge(self, request):
        data = self._validated(AuthorMergeInput, request.data)
        result = author_merge(target=data["target"], sources=data["sources"])
        return Response(AuthorMergeResultSerializer(result).data)
