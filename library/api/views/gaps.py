"""``/api/v1/gaps/``: missing books, their analysis runs, reports and stats (SPEC §4 Gaps)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from downloads.acquisition import gap_acquire, gap_search
from downloads.api.serializers import DownloadDetailSerializer, GapAcquireInput, MamCandidateSerializer
from downloads.integrations.mam import MamClient
from downloads.selectors import download_get
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
from scheduler.runner import job_start

RUNNING = OpenApiResponse(description="A gap analysis run is already queued or running (`conflict`).")
COMPLETED = OpenApiResponse(description="The gap is completed (owned); its status cannot change (`conflict`).")
ACQUIRE_JOB = "acquire_wanted"
ACQUIRING = OpenApiResponse(description="An acquisition run is already queued or running (`conflict`).")
NO_CANDIDATE = OpenApiResponse(
    description="MAM has no acceptable candidate, or the gap is completed or ignored (`conflict`)."
)
MAM_DOWN = OpenApiResponse(description="MAM could not be reached, or the session expired (`external_api_error`).")


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

    # --- acquisition (SPEC §8) -------------------------------------------------------------------

    @extend_schema(
        summary="Search MAM for the gap: ranked candidates with their cost, best first (rejected ones last)",
        description=(
            "Each candidate has its score and the points per factor (`reasons`), its `cost` and whether "
            "the account guard allows it now. Also updates the gap's best candidate. Throttle tier: search."
        ),
        responses={200: MamCandidateSerializer(many=True), 502: MAM_DOWN},
    )
    @action(detail=True, methods=["get"], throttle_tier="search", filter_backends=[], pagination_class=None)
    def search(self, request, pk=None):
        gap = self.get_object()
        with MamClient() as mam:
            candidates = gap_search(gap=gap, client=mam)
        return Response(MamCandidateSerializer([candidate.as_dict() for candidate in candidates], many=True).data)

    @extend_schema(
        operation_id="gaps_acquire_one",
        summary="Queue the gap's best MAM candidate through the account guard",
        description=(
            "201 with the new download (`queued`, or `held` with the guard's reason in `last_error`); "
            "200 with the gap's download when it already has an active one. Throttle tier: download."
        ),
        request=None,
        responses={
            201: DownloadDetailSerializer,
            200: DownloadDetailSerializer,
            409: NO_CANDIDATE,
            502: MAM_DOWN,
        },
    )
    @action(detail=True, methods=["post"], url_path="acquire", throttle_tier="download", filter_backends=[])
    def acquire(self, request, pk=None):
        download, candidates = gap_acquire(gap=self.get_object())
        # No candidates were looked at when the gap already had an active download.
        code = status.HTTP_201_CREATED if candidates else status.HTTP_200_OK
        return Response(DownloadDetailSerializer(download_get(download_id=download.pk)).data, status=code)

    @extend_schema(
        operation_id="gaps_acquire_all",
        summary="Analyse gaps, then search MAM and queue up to max_downloads within the account budget (job)",
        description="202 with the queued `acquire_wanted` run; 200 with the finished run when wait=true. "
        "Throttle tier: download.",
        parameters=[RunJobQuery],
        request=GapAcquireInput,
        responses={202: JobRunDetailSerializer, 200: JobRunDetailSerializer, 409: ACQUIRING},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="acquire",
        url_name="acquire-all",
        throttle_tier="download",
        serializer_class=GapAcquireInput,
        filter_backends=[],
        pagination_class=None,
    )
    def acquire_all(self, request):
        wait = validated_query(RunJobQuery, request)["wait"]
        serializer = GapAcquireInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = job_start(
            name=ACQUIRE_JOB, trigger=Trigger.API, user=request.user, params=serializer.job_params(), wait=wait
        )
        code = status.HTTP_200_OK if wait else status.HTTP_202_ACCEPTED
        return Response(JobRunDetailSerializer(run).data, status=code)
