"""``/api/v1/gaps/``: missing books, their analysis runs, reports and stats (SPEC §4 Gaps)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from library.api.serializers.gaps import (
    GapAnalyzeInput,
    GapReportSerializer,
    GapSerializer,
    GapStatsSerializer,
    GapUpdateInput,
)
from library.filters.gaps import GapFilterSet
from library.selectors.gaps import gap_history, gap_queryset, gap_report, gap_stats
from library.services.gaps import gap_analysis_params, gap_analysis_start, gap_update
from mamcrawler.api.filters import validated_query
from mamcrawler.api.viewsets import BaseViewSet
from scheduler.api.serializers import JobRunDetailSerializer, JobRunSerializer, RunJobQuery
from scheduler.choices import Trigger

RUNNING = OpenApiResponse(description="A gap analysis run is already queued or running (`conflict`).")
COMPLETED = OpenApiResponse(description="The gap is completed (owned); its status cannot change (`conflict`).")


@extend_schema_view(
    list=extend_schema(summary="List gaps (missing books)"),
    retrieve=extend_schema(summary="Get a gap"),
    partial_update=extend_schema(
        summary="Change a gap's priority, or set it ignored or wanted",
        request=GapUpdateInput,
        responses={200: GapSerializer, 409: COMPLETED},
    ),
)
class GapViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    queryset = gap_queryset()
    serializer_class = GapSerializer
    filterset_class = GapFilterSet
    search_fields = ["title"]

    def partial_update(self, request, *args, **kwargs):
        gap = self.get_object()
        serializer = GapUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        gap = gap_update(gap=gap, **serializer.validated_data)
        return Response(GapSerializer(gap_queryset().get(pk=gap.pk), context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Analyse gaps now (202 with the queued run; 200 with the finished run when wait=true)",
        parameters=[RunJobQuery],
        request=GapAnalyzeInput,
        responses={202: JobRunDetailSerializer, 200: JobRunDetailSerializer, 409: RUNNING},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def analyze(self, request):
        wait = validated_query(RunJobQuery, request)["wait"]
        serializer = GapAnalyzeInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = gap_analysis_start(
            params=gap_analysis_params(**serializer.validated_data),
            trigger=Trigger.API,
            user=request.user,
            wait=wait,
        )
        code = status.HTTP_200_OK if wait else status.HTTP_202_ACCEPTED
        return Response(JobRunDetailSerializer(run).data, status=code)

    @extend_schema(summary="The latest gap analysis: counts, duration, top series", responses=GapReportSerializer)
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def report(self, request):
        return Response(GapReportSerializer(gap_report()).data)

    @extend_schema(summary="Past gap analysis runs, newest first", responses=JobRunSerializer(many=True))
    @action(detail=False, methods=["get"], filter_backends=[])
    def history(self, request):
        return self.paginated_response(gap_history(), JobRunSerializer)

    @extend_schema(summary="Gap counts by reason, status and priority", responses=GapStatsSerializer)
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def stats(self, request):
        return Response(GapStatsSerializer(gap_stats()).data)
