"""``/api/v1/scheduler/``: declared jobs, their runs, worker status, upcoming runs, configuration."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from mamcrawler.accounts.choices import Role
from mamcrawler.api.exceptions import QueryValidationError
from mamcrawler.api.throttling import TieredThrottleMixin
from mamcrawler.api.viewsets import BaseViewSet, ReadOnlyModelViewSet
from mamcrawler.audit.api.mixins import AuditedViewMixin
from scheduler import selectors
from scheduler.api.serializers import (
    ConfigurationSerializer,
    JobRunDetailSerializer,
    JobRunSerializer,
    JobSerializer,
    JobUpdateInput,
    RunAllSerializer,
    RunJobQuery,
    StatusSerializer,
    UpcomingQuery,
    UpcomingRunSerializer,
)
from scheduler.choices import Trigger
from scheduler.filters import JobRunFilterSet
from scheduler.runner import job_start
from scheduler.services import job_set_enabled, job_update, jobs_run_all, run_cancel

TAGS = ["scheduler"]
JOB_NAME = OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, description="Job name, e.g. `cleanup`.")
RUNNING = OpenApiResponse(description="A run of this job is queued or running (`conflict`).")
FINISHED = OpenApiResponse(description="The run has already finished (`conflict`).")


def _query(serializer_class, request) -> dict:
    """Validated query parameters; errors point at ``["query", name]``."""
    serializer = serializer_class(data=request.query_params)
    if not serializer.is_valid():
        raise QueryValidationError(serializer.errors)
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="List the declared jobs"),
    retrieve=extend_schema(tags=TAGS, summary="A job", parameters=[JOB_NAME]),
    partial_update=extend_schema(
        tags=TAGS,
        summary="Change a job's schedule or enabled flag",
        parameters=[JOB_NAME],
        request=JobUpdateInput,
        responses=JobSerializer,
    ),
)
class JobViewSet(BaseViewSet):
    """The jobs declared in ``scheduler/schedules.py``, addressed by name."""

    serializer_class = JobSerializer
    lookup_field = "name"
    lookup_value_regex = r"[a-z0-9_]+"
    filter_backends = []

    def get_queryset(self):
        # Jobs are declared in code, not stored; the browsable API still asks for "the queryset".
        return selectors.job_states()

    def get_object(self):
        return selectors.job_state(self.kwargs[self.lookup_field])

    def _job(self, name: str) -> Response:
        return Response(JobSerializer(selectors.job_state(name)).data)

    def list(self, request):
        page = self.paginate_queryset(selectors.job_states())
        return self.get_paginated_response(JobSerializer(page, many=True).data)

    def retrieve(self, request, name=None):
        return Response(JobSerializer(self.get_object()).data)

    def partial_update(self, request, name=None):
        serializer = JobUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        job_update(name=name, user=request.user, **serializer.validated_data)
        return self._job(name)

    @extend_schema(
        tags=TAGS,
        summary="Run a job now (202 with the queued run; 200 with the finished run when wait=true)",
        parameters=[JOB_NAME, RunJobQuery],
        request=None,
        responses={202: JobRunDetailSerializer, 200: JobRunDetailSerializer, 409: RUNNING},
    )
    @action(detail=True, methods=["post"])
    def run(self, request, name=None):
        wait = _query(RunJobQuery, request)["wait"]
        run = job_start(name=name, trigger=Trigger.API, user=request.user, wait=wait)
        return Response(
            JobRunDetailSerializer(run).data, status=status.HTTP_200_OK if wait else status.HTTP_202_ACCEPTED
        )

    @extend_schema(tags=TAGS, summary="Pause a job's schedule", parameters=[JOB_NAME], request=None)
    @action(detail=True, methods=["post"])
    def pause(self, request, name=None):
        job_set_enabled(name=name, enabled=False, user=request.user)
        return self._job(name)

    @extend_schema(tags=TAGS, summary="Resume a job's schedule", parameters=[JOB_NAME], request=None)
    @action(detail=True, methods=["post"])
    def resume(self, request, name=None):
        job_set_enabled(name=name, enabled=True, user=request.user)
        return self._job(name)


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Job run history, newest first"),
    retrieve=extend_schema(tags=TAGS, summary="A job run with its log tail and parameters"),
)
class JobRunViewSet(ReadOnlyModelViewSet):
    """Every run of every job, whoever started it."""

    queryset = selectors.run_detail_queryset()
    serializer_class = JobRunSerializer
    filterset_class = JobRunFilterSet
    search_fields = ["job", "error", "request_id"]

    def get_queryset(self):
        if self.action == "list":
            return selectors.run_list_queryset()
        return super().get_queryset()

    def get_serializer_class(self):
        return JobRunSerializer if self.action == "list" else JobRunDetailSerializer

    @extend_schema(
        tags=TAGS,
        summary="Cancel a run (a queued run never starts; a running one stops at its next check)",
        request=None,
        responses={200: JobRunDetailSerializer, 409: FINISHED},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request, pk=None):
        return Response(JobRunDetailSerializer(run_cancel(run=self.get_object())).data)


class SchedulerView(AuditedViewMixin, TieredThrottleMixin, APIView):
    """A single scheduler resource: viewers read, the class names any stricter role or tier."""


class StatusView(SchedulerView):
    @extend_schema(
        tags=TAGS, summary="Worker heartbeat, queue length, running jobs and next runs", responses=StatusSerializer
    )
    def get(self, request):
        return Response(StatusSerializer(selectors.scheduler_status()).data)


class UpcomingView(SchedulerView):
    @extend_schema(
        tags=TAGS,
        summary="Runs of enabled jobs due in the next hours, soonest first",
        parameters=[UpcomingQuery],
        responses=UpcomingRunSerializer(many=True),
    )
    def get(self, request):
        hours = _query(UpcomingQuery, request)["hours"]
        return Response(UpcomingRunSerializer(selectors.jobs_upcoming(hours=hours), many=True).data)


class RunAllView(SchedulerView):
    required_role = Role.ADMIN
    throttle_tier = "admin"

    @extend_schema(
        tags=TAGS,
        summary="Queue every enabled job that is not running (admin)",
        request=None,
        responses={202: RunAllSerializer},
    )
    def post(self, request):
        queued, skipped = jobs_run_all(trigger=Trigger.API, user=request.user)
        body = RunAllSerializer({"queued": queued, "skipped": skipped}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ConfigurationView(SchedulerView):
    @extend_schema(
        tags=TAGS,
        summary="django-q2 and job settings, and where each job's schedule comes from",
        responses=ConfigurationSerializer,
    )
    def get(self, request):
        return Response(ConfigurationSerializer(selectors.scheduler_configuration()).data)
