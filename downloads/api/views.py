"""``/api/v1/downloads/``: downloads, their actions, lists by state, stats and sync (SPEC §4 Downloads)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from downloads import selectors
from downloads.acquisition import download_from_magnet, download_from_mam, download_from_upload, gap_acquire
from downloads.actions import (
    download_cancel,
    download_mark_failed,
    download_pause,
    download_reimport,
    download_resume,
    download_retry,
)
from downloads.api.serializers import (
    DownloadCancelInput,
    DownloadCreateInput,
    DownloadDetailSerializer,
    DownloadMarkFailedInput,
    DownloadQueueInput,
    DownloadSerializer,
    DownloadStatsSerializer,
    DownloadUploadInput,
)
from downloads.filters import DownloadFilterSet
from downloads.models import Download
from downloads.torrents import MAX_TORRENT_BYTES
from mamcrawler.accounts.models import ApiKey
from mamcrawler.api.filters import validated_query
from mamcrawler.api.viewsets import BaseViewSet
from scheduler.api.serializers import JobRunDetailSerializer, RunJobQuery
from scheduler.choices import Trigger
from scheduler.runner import job_start

TAGS = ["downloads"]
MONITOR_JOB = "download_monitor"
# Room for the multipart envelope and the small fields around the file.
ENVELOPE_BYTES = 64 * 1024
CREATED_OR_EXISTING = {
    201: OpenApiResponse(DownloadDetailSerializer, description="A new download (`queued`, or `held` with the reason)."),
    200: OpenApiResponse(DownloadDetailSerializer, description="The torrent already had an active download: that one."),
}
ILLEGAL = OpenApiResponse(description="The download's state does not allow this (`conflict`).")
CLIENT_DOWN = OpenApiResponse(description="qBittorrent could not be reached or refused (`external_api_error`).")
MAM_DOWN = OpenApiResponse(description="MAM could not be reached, or the session expired (`external_api_error`).")
NO_CANDIDATE = OpenApiResponse(description="MAM has no acceptable candidate, or the gap is closed (`conflict`).")
RUNNING = OpenApiResponse(description="A download monitor run is already queued or running (`conflict`).")


def actor(request) -> str:
    """Who acts, for the transition log: the username, or the API key's prefix."""
    if isinstance(request.auth, ApiKey):
        return f"api key {request.auth.prefix}"
    return request.user.get_username()


def validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def detail_response(download: Download, *, created: bool = False) -> Response:
    fresh = selectors.download_get(download_id=download.pk)
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(DownloadDetailSerializer(fresh).data, status=code)


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="List downloads"),
    retrieve=extend_schema(tags=TAGS, summary="A download with its transition history"),
    create=extend_schema(
        tags=TAGS,
        summary="Add a download from a MAM torrent id, a MAM torrent URL or a magnet link",
        description=(
            "Exactly one of `mam_torrent_id`, `torrent_url` (the configured MAM host only; other hosts "
            "are refused and never fetched) or `magnet`. MAM torrents go through the account guard: "
            "a refused one is created `held` with the reason in `last_error`. Throttle tier: download."
        ),
        request=DownloadCreateInput,
        responses={**CREATED_OR_EXISTING, 502: MAM_DOWN},
    ),
)
class DownloadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Downloads: filters, search, ordering; actions move them through the state machine (SPEC §8.5)."""

    queryset = selectors.download_list_queryset()
    serializer_class = DownloadSerializer
    filterset_class = DownloadFilterSet
    search_fields = selectors.SEARCH_FIELDS

    def get_queryset(self):
        if self.action in ("list", "pending", "failed", "retry_due"):
            return selectors.download_list_queryset()
        return selectors.download_detail_queryset()

    def get_serializer_class(self):
        return DownloadDetailSerializer if self.action == "retrieve" else super().get_serializer_class()

    def get_throttle_tier(self) -> str:
        return "download" if self.action == "create" else super().get_throttle_tier()

    def create(self, request, *args, **kwargs):
        data = validated(DownloadCreateInput, request)
        gap = data.get("missing_book")
        if "magnet" in data:
            download, created = download_from_magnet(magnet=data["magnet"], title=data.get("title", ""), gap=gap)
        else:
            download, created = download_from_mam(torrent_id=data["mam_torrent_id"], gap=gap)
        return detail_response(download, created=created)

    @extend_schema(
        tags=TAGS,
        summary="Add a download from an uploaded .torrent file (at most 10 MiB)",
        description="A torrent announcing to MAM goes through the account guard. Throttle tier: upload.",
        request={"multipart/form-data": DownloadUploadInput},
        responses=CREATED_OR_EXISTING,
    )
    @action(
        detail=False,
        methods=["post"],
        throttle_tier="upload",
        parser_classes=[MultiPartParser],
        serializer_class=DownloadUploadInput,
        filter_backends=[],
    )
    def upload(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        # Refused before the body is read: the envelope alone says it is too big.
        if length.isdigit() and int(length) > MAX_TORRENT_BYTES + ENVELOPE_BYTES:
            raise ValidationError({"file": ["A torrent file may have at most 10 MiB."]}, code="max_size")
        data = validated(DownloadUploadInput, request)
        download, created = download_from_upload(
            data=data["file"], title=data.get("title", ""), gap=data.get("missing_book")
        )
        return detail_response(download, created=created)

    @extend_schema(
        tags=TAGS,
        summary="Queue the best MAM candidate of a gap, or a MAM torrent id, through the account guard",
        description=(
            "A candidate the guard refuses is still created, `held`, with the guard's reason in "
            "`last_error`; it is reconsidered by the next monitor or acquisition run. Throttle tier: download."
        ),
        request=DownloadQueueInput,
        responses={**CREATED_OR_EXISTING, 409: NO_CANDIDATE, 502: MAM_DOWN},
    )
    @action(
        detail=False,
        methods=["post"],
        throttle_tier="download",
        serializer_class=DownloadQueueInput,
        filter_backends=[],
    )
    def queue(self, request):
        data = validated(DownloadQueueInput, request)
        if "missing_book" in data:
            download, candidates = gap_acquire(gap=data["missing_book"])
            # No candidates means the gap already had an active download, which is returned.
            return detail_response(download, created=bool(candidates))
        download, created = download_from_mam(torrent_id=data["mam_torrent_id"])
        return detail_response(download, created=created)

    # --- actions on one download ---------------------------------------------------------------

    @extend_schema(
        tags=TAGS,
        summary="Retry a failed download now",
        request=None,
        responses={200: DownloadDetailSerializer, 409: ILLEGAL},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def retry(self, request, pk=None):
        return detail_response(download_retry(download=self.get_object(), actor=actor(request)))

    @extend_schema(
        tags=TAGS,
        summary="Cancel a download; optionally remove its torrent (and files) from qBittorrent",
        request=DownloadCancelInput,
        responses={200: DownloadDetailSerializer, 409: ILLEGAL, 502: CLIENT_DOWN},
    )
    @action(detail=True, methods=["post"], serializer_class=DownloadCancelInput, filter_backends=[])
    def cancel(self, request, pk=None):
        data = validated(DownloadCancelInput, request)
        download = download_cancel(download=self.get_object(), actor=actor(request), **data)
        return detail_response(download)

    @extend_schema(
        tags=TAGS,
        summary="Pause a downloading torrent",
        request=None,
        responses={200: DownloadDetailSerializer, 409: ILLEGAL, 502: CLIENT_DOWN},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def pause(self, request, pk=None):
        return detail_response(download_pause(download=self.get_object(), actor=actor(request)))

    @extend_schema(
        tags=TAGS,
        summary="Resume a paused torrent",
        request=None,
        responses={200: DownloadDetailSerializer, 409: ILLEGAL, 502: CLIENT_DOWN},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def resume(self, request, pk=None):
        return detail_response(download_resume(download=self.get_object(), actor=actor(request)))

    @extend_schema(
        tags=TAGS,
        summary="Import a finished download (again)",
        request=None,
        responses={200: DownloadDetailSerializer, 409: ILLEGAL},
    )
    @action(detail=True, methods=["post"], url_path="import", filter_backends=[])
    def reimport(self, request, pk=None):
        return detail_response(download_reimport(download=self.get_object(), actor=actor(request)))

    @extend_schema(
        tags=TAGS,
        summary="Mark a download failed (a retry is scheduled as for any failure)",
        request=DownloadMarkFailedInput,
        responses={200: DownloadDetailSerializer, 409: ILLEGAL},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="mark-failed",
        serializer_class=DownloadMarkFailedInput,
        filter_backends=[],
    )
    def mark_failed(self, request, pk=None):
        reason = validated(DownloadMarkFailedInput, request)["reason"]
        download = download_mark_failed(download=self.get_object(), reason=reason, actor=actor(request))
        return detail_response(download)

    # --- lists and figures ---------------------------------------------------------------------

    @extend_schema(
        tags=TAGS,
        summary="Downloads on their way: queued, submitting, held, downloading, paused, completed, importing",
        responses=DownloadSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def pending(self, request):
        return self.paginated_response(self.filter_queryset(selectors.downloads_pending()), DownloadSerializer)

    @extend_schema(tags=TAGS, summary="Failed and abandoned downloads", responses=DownloadSerializer(many=True))
    @action(detail=False, methods=["get"])
    def failed(self, request):
        return self.paginated_response(self.filter_queryset(selectors.downloads_failed()), DownloadSerializer)

    @extend_schema(
        tags=TAGS,
        summary="Failed downloads whose retry time has come, the longest overdue first",
        responses=DownloadSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="retry-due")
    def retry_due(self, request):
        return self.paginated_response(self.filter_queryset(selectors.downloads_retry_due()), DownloadSerializer)

    @extend_schema(tags=TAGS, summary="Download counts, sizes and costs", responses=DownloadStatsSerializer)
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def stats(self, request):
        return Response(DownloadStatsSerializer(selectors.download_stats()).data)

    @extend_schema(
        tags=TAGS,
        summary="Poll qBittorrent now: a download monitor run (202; 200 with the finished run when wait=true)",
        parameters=[RunJobQuery],
        request=None,
        responses={202: JobRunDetailSerializer, 200: JobRunDetailSerializer, 409: RUNNING},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def sync(self, request):
        wait = validated_query(RunJobQuery, request)["wait"]
        run = job_start(name=MONITOR_JOB, trigger=Trigger.API, user=request.user, wait=wait)
        code = status.HTTP_200_OK if wait else status.HTTP_202_ACCEPTED
        return Response(JobRunDetailSerializer(run).data, status=code)
