"""``POST /api/v1/admin/maintenance/backup/``: run the backup job now (admin only)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from mamcrawler.accounts.api.admin_access import ADMIN_TAGS, AdminAccessMixin
from mamcrawler.api.filters import validated_query
from mamcrawler.api.throttling import TieredThrottleMixin
from mamcrawler.audit.api.mixins import AuditedViewMixin
from scheduler.api.serializers import JobRunDetailSerializer, RunJobQuery
from scheduler.choices import Trigger
from scheduler.runner import job_start

JOB = "backup"
RUNNING = OpenApiResponse(description="A backup run is already queued or running (`conflict`).")


class BackupView(AdminAccessMixin, AuditedViewMixin, TieredThrottleMixin, APIView):
    """Starts the ``backup`` job, which writes an archive to ``BACKUP_DIR`` and prunes old ones."""

    audit_object_type = "scheduler.jobrun"

    @extend_schema(
        tags=ADMIN_TAGS,
        summary="Back up the instance now (202 with the queued run; 200 with the finished run when wait=true)",
        description="The archive is written to BACKUP_DIR on the server; the run's summary names it.",
        parameters=[RunJobQuery],
        request=None,
        responses={202: JobRunDetailSerializer, 200: JobRunDetailSerializer, 409: RUNNING},
    )
    def post(self, request):
        wait = validated_query(RunJobQuery, request)["wait"]
        run = job_start(name=JOB, trigger=Trigger.API, user=request.user, wait=wait)
        code = status.HTTP_200_OK if wait else status.HTTP_202_ACCEPTED
        return Response(JobRunDetailSerializer(run).data, status=code)
