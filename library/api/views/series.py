"""``/api/v1/series/``: series CRUD, books in reading order, completion and monitoring."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from library.api.serializers.gaps import GapSerializer
from library.api.serializers.series import (
    CompletionSummarySerializer,
    SeriesBookSerializer,
    SeriesCompletionSerializer,
    SeriesInput,
    SeriesSerializer,
)
from library.filters.series import SeriesFilterSet
from library.models import Series
from library.selectors.gaps import gaps_of_series
from library.selectors.series import (
    series_books,
    series_completion,
    series_completion_summary,
    series_incomplete,
    series_queryset,
)
from library.services.completion import series_recalculate
from library.services.series import series_create, series_delete, series_set_monitored, series_update
from mamcrawler.api.viewsets import ModelViewSet

NAME_TAKEN = OpenApiResponse(description="The primary author already has a series of that name (`conflict`).")


@extend_schema_view(
    list=extend_schema(summary="List series"),
    retrieve=extend_schema(summary="Get a series"),
    create=extend_schema(
        summary="Create a series", request=SeriesInput, responses={201: SeriesSerializer, 409: NAME_TAKEN}
    ),
    update=extend_schema(
        summary="Replace a series", request=SeriesInput, responses={200: SeriesSerializer, 409: NAME_TAKEN}
    ),
    partial_update=extend_schema(
        summary="Change a series", request=SeriesInput, responses={200: SeriesSerializer, 409: NAME_TAKEN}
    ),
    destroy=extend_schema(summary="Delete a series (its books stay)", responses={204: None}),
)
class SeriesViewSet(ModelViewSet):
    queryset = series_queryset()
    serializer_class = SeriesSerializer
    filterset_class = SeriesFilterSet
    search_fields = ["name"]

    def get_serializer_class(self):
        # Writes take author ids and plain fields (also the browsable API's form).
        if self.action in ("create", "update", "partial_update"):
            return SeriesInput
        return SeriesSerializer

    def get_queryset(self):
        # These routes read the series row alone; its authors would be a wasted query.
        if self.action in ("books", "completion", "gaps"):
            return Series.objects.all()
        return super().get_queryset()

    def _validated(self, data, *, instance=None, partial=False) -> dict:
        serializer = SeriesInput(instance, data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _respond(self, series: Series, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = series_queryset().get(pk=series.pk)
        return Response(SeriesSerializer(fresh, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request, *args, **kwargs):
        series = series_create(**self._validated(request.data))
        return self._respond(series, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        series = self.get_object()
        data = self._validated(request.data, instance=series, partial=kwargs.get("partial", False))
        return self._respond(series_update(series=series, **data))

    def destroy(self, request, *args, **kwargs):
        series_delete(series=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Books of a series in reading order", responses=SeriesBookSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def books(self, request, pk=None):
        return self.paginated_response(series_books(series=self.get_object()), SeriesBookSerializer)

    @extend_schema(summary="Gaps of a series in reading order", responses=GapSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def gaps(self, request, pk=None):
        return self.paginated_response(gaps_of_series(series=self.get_object()), GapSerializer)

    @extend_schema(summary="Owned and missing positions of a series", responses=SeriesCompletionSerializer)
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def completion(self, request, pk=None):
        return Response(SeriesCompletionSerializer(series_completion(series=self.get_object())).data)

    @extend_schema(summary="Recount a series from its books", request=None, responses=SeriesSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def recalculate(self, request, pk=None):
        return self._respond(series_recalculate(series=self.get_object()))

    @extend_schema(summary="Follow a series", request=None, responses=SeriesSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def monitor(self, request, pk=None):
        return self._respond(series_set_monitored(series=self.get_object(), monitored=True))

    @extend_schema(summary="Stop following a series", request=None, responses=SeriesSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def unmonitor(self, request, pk=None):
        return self._respond(series_set_monitored(series=self.get_object(), monitored=False))

    @extend_schema(summary="Series counts per completion status", responses=CompletionSummarySerializer)
    @action(detail=False, methods=["get"], url_path="completion-summary", filter_backends=[], pagination_class=None)
    def completion_summary(self, request):
        return Response(CompletionSummarySerializer(series_completion_summary()).data)

    @extend_schema(summary="Partial and incomplete series, most missing first", responses=SeriesSerializer(many=True))
    @action(detail=False, methods=["get"], filter_backends=[])
    def incomplete(self, request):
        return self.paginated_response(series_incomplete(), SeriesSerializer)
