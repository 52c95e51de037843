"""Moving downloads along (SPEC §8.3, §8.5, §8.6): submit queued torrents, follow the client, import.

Every step claims its rows first (``downloads_claim``), so two workers running the monitor at
once never add the same torrent twice or import the same book twice.  qBittorrent being
down is an error recorded on the run and on the downloads concerned, never a lost download:
a queued one stays queued, one being followed stays where it was until the client answers.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from downloads.integrations import qbittorrent as qb
from downloads.models import Download, DownloadStatus
from downloads.state import download_fail, download_transition, downloads_claim
from mamcrawler.api.exceptions import AppError, Conflict, ExternalApiError
from notifications.events import download_data, notify
from scheduler.context import JobContext
from scheduler.locks import worker_name

logger = logging.getLogger("mamcrawler.downloads")

S = DownloadStatus
SUBMIT_BATCH = 20
IMPORT_BATCH = 10
# Downloads whose torrent lives in the client and whose state the client decides.
FOLLOWED = (S.DOWNLOADING, S.PAUSED)


@dataclass
class MonitorReport:
    released: list[int] = field(default_factory=list)
    submitted: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)
    imported: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def tags_for(download: Download) -> list[str]:
    return ["mamcrawler", "gap" if download.missing_book_id else "manual"]


def download_submit(*, download: Download, client: qb.QbittorrentClient) -> Download:
    """Add a claimed ``submitting`` download to qBittorrent and mark it ``downloading``.

    A connection problem puts it back in the queue (the next run tries again); a refusal
    that retrying cannot fix fails it with a scheduled retry.
    """
    try:
        if download.torrent_file:
            client.add_torrent(torrent_bytes=bytes(download.torrent_file), tags=tags_for(download))
        elif download.magnet:
            client.add_magnet(magnet=download.magnet, torrent_hash=download.info_hash, tags=tags_for(download))
        else:
            return download_fail(download=download, error="Neither a torrent file nor a magnet link is stored.")
    except ExternalApiError as exc:
        if exc.retryable:
            return download_transition(download=download, to=S.QUEUED, reason=f"not submitted: {exc.detail}"[:200])
        return download_fail(download=download, error=str(exc.detail))
    except AppError as exc:  # bytes that are not a torrent: retrying will not help
        return download_fail(download=download, error=str(exc.detail))
    return download_transition(download=download, to=S.DOWNLOADING, reason="added to qBittorrent")


def downloads_submit(*, client: qb.QbittorrentClient, report: MonitorReport, worker: str) -> None:
    """Claim queued downloads (high priority, oldest first) and add them to the client."""
    for download in downloads_claim(status=S.QUEUED, limit=SUBMIT_BATCH, worker=worker):
        try:
            download = download_transition(download=download, to=S.SUBMITTING, reason=f"claimed by {worker}")
        except Conflict:
            continue
        download = download_submit(download=download, client=client)
        if download.status == S.DOWNLOADING:
            report.submitted.append(download.pk)
        elif download.status in (S.FAILED, S.ABANDONED):
            report.failed.append(download.pk)
        else:
            report.errors.append(f"download {download.pk}: {download.transitions[-1]['reason']}")
            # The client is unreachable: the others would fail the same way.
            return


def _client_fields(download: Download, torrent: qb.TorrentStatus) -> dict:
    fields = {
        "client_state": torrent.state_raw[:32],
        "progress": min(1.0, max(0.0, torrent.progress)),
        "size_bytes": torrent.size or download.size_bytes,
        "save_path": torrent.save_path,
        "content_path": torrent.content_path,
    }
    return {name: value for name, value in fields.items() if getattr(download, name) != value}


def download_follow(*, download: Download, torrent: qb.TorrentStatus | None, report: MonitorReport) -> Download:
    """Apply what the client says about one followed download."""
    if torrent is None:
        if download.status == S.DOWNLOADING:
            report.failed.append(download.pk)
            return download_fail(download=download, error="qBittorrent no longer has this torrent.")
        return download
    changed = _client_fields(download, torrent)
    if changed:
        Download.objects.filter(pk=download.pk).update(**changed)
        for name, value in changed.items():
            setattr(download, name, value)
    to = {qb.COMPLETED: S.COMPLETED, qb.PAUSED: S.PAUSED, qb.DOWNLOADING: S.DOWNLOADING}.get(torrent.state)
    if torrent.state == qb.FAILED:
        report.failed.append(download.pk)
        return download_fail(download=download, error=f"qBittorrent reports the torrent as {torrent.state_raw}.")
    if to == S.COMPLETED and download.status == S.PAUSED:
        download = download_transition(download=download, to=S.DOWNLOADING, reason="finished while paused")
    if to and to != download.status:
        download = download_transition(download=download, to=to, reason=f"qBittorrent: {torrent.state_raw}")
        if to == S.COMPLETED:
            report.completed.append(download.pk)
    return download


def downloads_poll(*, client: qb.QbittorrentClient, report: MonitorReport) -> None:
    """Read every torrent of our category once and advance the downloads it concerns."""
    followed = list(Download.objects.filter(status__in=FOLLOWED).order_by("pk"))
    if not followed:
        return
    torrents = {torrent.hash: torrent for torrent in client.torrents()}
    missing = [d for d in followed if d.info_hash not in torrents]
    if missing:
        # Torrents moved to another category are still ours: ask for them by hash.
        for download in missing:
            found = client.torrent(download.info_hash)
            if found is not None:
                torrents[found.hash] = found
    for download in followed:
        try:
            download_follow(download=download, torrent=torrents.get(download.info_hash), report=report)
        except Conflict:
            continue  # changed meanwhile (an API call, another worker); the next poll sees it


def import_hint(download: Download) -> dict:
    """What the import may use when the audio tags are silent (SPEC §8.1: MAM's info feeds the metadata).

    With a gap, the gap names the book; MAM adds the narrators.  Without one, the MAM row
    (authors, narrators, first series and position) or else the download's own title/author.
    """
    details = download.mam_details or {}
    if download.missing_book_id:
        gap = download.missing_book
        candidate = gap.best_candidate or {}
        narrators = details.get("narrators") or (
            candidate.get("narrators") if candidate.get("mam_torrent_id") == download.mam_torrent_id else None
        )
        return {"narrators": narrators} if narrators else {}
    authors = details.get("authors") or [a.strip() for a in download.author.split(",") if a.strip()]
    hint = {"title": download.title, "authors": authors, "narrators": details.get("narrators") or []}
    series = details.get("series") or []
    if series:
        hint["series"], hint["position"] = series[0][0], series[0][1] if len(series[0]) > 1 else ""
    return hint


def download_import(*, download: Download) -> Download:
    """Import a claimed ``importing`` download into the library (SPEC §8.6); failures retry later."""
    from downloads.importing import import_completed

    if not download.content_path:
        return download_fail(download=download, error="qBittorrent gave no content path to import from.")
    gap = download.missing_book
    hint = import_hint(download)
    try:
        result = import_completed(content_path=download.content_path, gap=gap, hint=hint)
    except (AppError, OSError) as exc:
        detail = exc.detail if isinstance(exc, AppError) else exc
        return download_fail(download=download, error=f"Import failed: {detail}")
    Download.objects.filter(pk=download.pk).update(book=result.book)
    download.book = result.book
    how = f"{result.linked} linked, {result.copied} copied, {result.reused} already there"
    return download_transition(download=download, to=S.IMPORTED, reason=f"imported as book {result.book.pk} ({how})")


def downloads_import(*, report: MonitorReport, worker: str) -> None:
    """Claim completed downloads and import them, one at a time."""
    for download in downloads_claim(status=S.COMPLETED, limit=IMPORT_BATCH, worker=worker):
        try:
            download = download_transition(download=download, to=S.IMPORTING, reason=f"claimed by {worker}")
        except Conflict:
            continue
        download = download_import(download=download)
        (report.imported if download.status == S.IMPORTED else report.failed).append(download.pk)
        if download.status == S.IMPORTED:
            notify("book_imported", download_data(download))


def downloads_sync(*, job: JobContext | None = None) -> MonitorReport:
    """One monitor pass: release held downloads, submit queued ones, poll the client, import.

    Errors of the client are collected in the report (and fail the job run afterwards),
    after every step that could still be done was done.
    """
    from downloads.acquisition import downloads_release_held

    report = MonitorReport()
    worker = worker_name()
    report.released = downloads_release_held()
    try:
        client = qb.QbittorrentClient()
    except ExternalApiError as exc:
        client = None
        if Download.objects.filter(status__in=(S.QUEUED, *FOLLOWED)).exists():
            report.errors.append(str(exc.detail))
    if client is not None:
        try:
            downloads_submit(client=client, report=report, worker=worker)
            if job:
                job.check_cancelled()
            downloads_poll(client=client, report=report)
        except ExternalApiError as exc:
            report.errors.append(str(exc.detail))
    if job:
        job.check_cancelled()
    downloads_import(report=report, worker=worker)
    return report


def download_monitor_run(*, job: JobContext) -> dict:
    """The ``download_monitor`` job (every 2 minutes by default)."""
    report = downloads_sync(job=job)
    for failed in Download.objects.filter(pk__in=report.failed).select_related("book"):
        notify("download_failed", download_data(failed))
    done = len(report.submitted) + len(report.completed) + len(report.imported) + len(report.released)
    job.count(processed=done + len(report.failed), succeeded=done, failed=len(report.failed))
    job.log(
        "Released %d, submitted %d, completed %d, imported %d, failed %d.",
        len(report.released),
        len(report.submitted),
        len(report.completed),
        len(report.imported),
        len(report.failed),
    )
    if report.errors:
        raise ExternalApiError("; ".join(dict.fromkeys(report.errors)), service="qBittorrent")
    return report.as_dict()
