"""What a person can do to one download (the API's and the admin's actions, SPEC §4 Downloads).

Each action checks the state machine first, then asks qBittorrent, then records the change,
so a refused action changes nothing and a client failure (502) leaves the status as it was.
"""

from __future__ import annotations

from downloads.integrations.qbittorrent import QbittorrentClient
from downloads.models import Download, DownloadStatus
from downloads.state import ALLOWED, download_fail, download_transition
from mamcrawler.api.exceptions import Conflict

S = DownloadStatus
# States in which the client has (or may have) the torrent.
IN_CLIENT = (S.SUBMITTING, S.DOWNLOADING, S.PAUSED, S.COMPLETED, S.IMPORTING, S.FAILED)


def _require(download: Download, to: str, action: str) -> None:
    if to not in ALLOWED.get(download.status, ()):
        raise Conflict(
            f"A {download.status} download cannot be {action}.",
            context={"id": download.pk, "status": download.status},
        )


def download_pause(*, download: Download, actor: str = "") -> Download:
    """Pause a downloading torrent in qBittorrent (downloading → paused)."""
    _require(download, S.PAUSED, "paused")
    QbittorrentClient().pause(download.info_hash)
    return download_transition(download=download, to=S.PAUSED, reason=f"paused{_by(actor)}")


def download_resume(*, download: Download, actor: str = "") -> Download:
    """Resume a paused torrent (paused → downloading)."""
    _require(download, S.DOWNLOADING, "resumed")
    QbittorrentClient().resume(download.info_hash)
    return download_transition(download=download, to=S.DOWNLOADING, reason=f"resumed{_by(actor)}")


def download_cancel(
    *, download: Download, remove_torrent: bool = False, delete_files: bool = False, actor: str = ""
) -> Download:
    """Cancel a download; optionally remove its torrent from qBittorrent, and its files with it.

    Files already imported into the library are never touched (they are hardlinks or copies).
    """
    _require(download, S.CANCELLED, "cancelled")
    if (remove_torrent or delete_files) and download.status in IN_CLIENT:
        QbittorrentClient().delete(download.info_hash, delete_files=delete_files)
    what = "torrent and files removed" if delete_files else "torrent removed" if remove_torrent else ""
    return download_transition(download=download, to=S.CANCELLED, reason=f"cancelled{_by(actor)}{_also(what)}")


def download_retry(*, download: Download, actor: str = "") -> Download:
    """Queue a failed download again now, without waiting for its ``next_retry_at``."""
    if download.status != S.FAILED:
        raise Conflict(
            f"Only a failed download can be retried; this one is {download.status}.",
            context={"id": download.pk, "status": download.status},
        )
    return download_transition(download=download, to=S.QUEUED, reason=f"retry requested{_by(actor)}")


def download_mark_failed(*, download: Download, reason: str = "", actor: str = "") -> Download:
    """Mark a download failed by hand (a retry is scheduled as for any failure)."""
    _require(download, S.FAILED, "marked failed")
    return download_fail(download=download, error=f"Marked failed{_by(actor)}{_also(reason)}")


def download_reimport(*, download: Download, actor: str = "") -> Download:
    """Import a finished download again: completed or failed (after an import failure) → importing → imported.

    An imported download is imported again in place (files reused, book updated); its status stays.
    """
    from downloads.monitor import download_import

    if download.status == S.IMPORTED:
        return _import_again(download)
    if download.status == S.FAILED and download.progress < 1:
        raise Conflict(
            "This download failed before it finished; retry it instead of importing it.",
            context={"id": download.pk, "status": download.status, "progress": download.progress},
        )
    _require(download, S.IMPORTING, "imported")
    download = download_transition(download=download, to=S.IMPORTING, reason=f"import requested{_by(actor)}")
    return download_import(download=download)


def _import_again(download: Download) -> Download:
    from downloads.importing import import_completed

    result = import_completed(content_path=download.content_path, gap=download.missing_book)
    Download.objects.filter(pk=download.pk).update(book=result.book)
    download.book = result.book
    return download


def _by(actor: str) -> str:
    return f" by {actor}" if actor else ""


def _also(text: str) -> str:
    return f": {text}" if text else ""
