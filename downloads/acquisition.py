"""From a wanted book to a queued Download (SPEC §8): search MAM, rank, ask the guard, fetch the torrent.

A Download is created ``queued`` when the account guard allows it, or ``held`` with the
guard's reason (reconsidered by every ``acquire_wanted`` and ``download_monitor`` run).  The
info hash always comes from the torrent's own bytes; one torrent is one active Download,
however many callers or workers ask for it at once.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from downloads.account import account_state
from downloads.guard import FREE, WEDGE, AccountState, GuardDecision, guard_check, guard_check_torrent
from downloads.integrations.mam import MamClient, MamTorrent
from downloads.models import FINAL_STATUSES, Download, DownloadSource, DownloadStatus
from downloads.ranking import Candidate, Wanted, rank_candidates
from downloads.state import download_hold, download_release, gap_follow
from downloads.torrents import TorrentMeta, magnet_meta, torrent_meta
from library.models import GapStatus, MissingBook
from library.naming import name_key
from mamcrawler.api.exceptions import AppValidationError, Conflict, ExternalApiError
from notifications.events import download_data, notify

logger = logging.getLogger("mamcrawler.downloads")

# A search moves a gap to found / not_found only from these; identified, queued, … keep their status.
SEARCH_SETS_STATUS = (GapStatus.WANTED, GapStatus.SEARCHING, GapStatus.FOUND, GapStatus.NOT_FOUND, GapStatus.FAILED)


def active_downloads():
    """Downloads that are not over (their info hash is taken)."""
    return Download.objects.exclude(status__in=FINAL_STATUSES)


# --- searching -------------------------------------------------------------------------------------


def gap_wanted(gap: MissingBook) -> Wanted:
    """What ranking looks for, from a gap."""
    authors = list(gap.author_names or [])
    if not authors and gap.primary_author_id:
        authors = [gap.primary_author.name]
    return Wanted(
        title=gap.title,
        authors=authors,
        series=gap.series.name if gap.series_id else "",
        position=gap.position_label or "",
        language=gap.language or "",
        is_omnibus="-" in (gap.position_label or ""),
    )


def search_text(wanted: Wanted) -> str:
    """The MAM query for a wanted book: its title and first author, without punctuation."""
    return name_key(" ".join(part for part in (wanted.title, *wanted.authors[:1]) if part))[:200]


def gap_search(*, gap: MissingBook, client: MamClient, account: AccountState | None = None) -> list[Candidate]:
    """Search MAM for ``gap``: every candidate best first (rejected ones last, with why).

    Side effects: one MAM search; the gap's ``best_candidate``, ``hold_reason`` and
    ``searched_at``, and its status → ``found`` / ``not_found`` when it was wanted.  Torrents
    that were already abandoned for this gap are left out.
    """
    wanted = gap_wanted(gap)
    torrents = client.search(search_text(wanted))
    abandoned = set(gap.downloads.filter(status=DownloadStatus.ABANDONED).values_list("mam_torrent_id", flat=True))
    torrents = [torrent for torrent in torrents if torrent.id not in abandoned]
    account = account if account is not None else account_state()
    candidates = rank_candidates(wanted=wanted, torrents=torrents, account=account, include_rejected=True)
    best = next((candidate for candidate in candidates if not candidate.rejected), None)
    fields = {
        "best_candidate": best.as_dict() if best else None,
        "hold_reason": (best.hold_reason if best and not best.allowed else "")[:255],
        "searched_at": timezone.now(),
        "updated_at": timezone.now(),
    }
    if gap.status in SEARCH_SETS_STATUS:
        fields["status"] = GapStatus.FOUND if best else GapStatus.NOT_FOUND
    MissingBook.objects.filter(pk=gap.pk).update(**fields)
    for name, value in fields.items():
        setattr(gap, name, value)
    return candidates


def best_candidate(candidates: list[Candidate]) -> Candidate | None:
    return next((candidate for candidate in candidates if not candidate.rejected), None)


# --- creating downloads ------------------------------------------------------------------------------


def _created_entry(source: str) -> list[dict]:
    at = timezone.now().isoformat()
    return [{"from": None, "to": DownloadStatus.QUEUED, "at": at, "reason": f"added ({source})"}]


def download_create(
    *,
    meta: TorrentMeta,
    source: str,
    torrent_bytes: bytes | None = None,
    magnet: str = "",
    title: str = "",
    author: str = "",
    mam_torrent_id: int | None = None,
    gap: MissingBook | None = None,
    is_free: bool = False,
    is_vip: bool = False,
    used_wedge: bool = False,
    priority: int | None = None,
    mam_details: dict | None = None,
) -> tuple[Download, bool]:
    """A queued Download for the torrent ``meta`` describes, or the active one it already has.

    Returns ``(download, created)``.  Two callers racing on one info hash end with one row:
    the partial unique index refuses the second insert, which then returns the first.
    """
    existing = active_downloads().filter(info_hash=meta.info_hash).first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    try:
        with transaction.atomic():
            download = Download.objects.create(
                title=(title or meta.name or meta.info_hash)[:500],
                author=author[:500],
                source=source,
                mam_torrent_id=mam_torrent_id,
                info_hash=meta.info_hash,
                magnet=magnet,
                torrent_file=torrent_bytes,
                missing_book=gap,
                size_bytes=meta.size_bytes or None,
                is_free=is_free,
                is_vip=is_vip,
                used_wedge=used_wedge,
                priority=priority if priority is not None else (gap.priority if gap else 2),
                mam_details=mam_details or {},
                transitions=_created_entry(source),
                status_changed_at=now,
            )
    except IntegrityError:
        existing = active_downloads().filter(info_hash=meta.info_hash).first()
        if existing is None:
            raise
        return existing, False
    gap_follow(download)
    logger.info("Download %s added from %s: %s (%s)", download.pk, source, download.title, download.info_hash)
    return download, True


def mam_details(*, authors, narrators, series, fmt: str = "", language: str = "") -> dict:
    """The MAM row's book facts kept on a Download, for its import (``series``: ``[[name, position], …]``)."""
    return {
        "authors": list(authors),
        "narrators": list(narrators),
        "series": [list(pair) for pair in series],
        "format": fmt,
        "language": language,
    }


def _guarded(download: Download, decision: GuardDecision, created: bool) -> Download:
    """Hold a just-created download the guard refuses."""
    if created and not decision.allowed:
        download = download_hold(download=download, reason=decision.hold_reason)
        notify("download_held", {**download_data(download), "reason": decision.hold_reason})
    return download


def _spend_wedge(client: MamClient, torrent_id: int, decision: GuardDecision) -> GuardDecision:
    """Spend a wedge when the guard chose one; a failed purchase holds the torrent instead."""
    if not decision.uses_wedge:
        return decision
    try:
        client.spend_wedge(torrent_id)
    except ExternalApiError as exc:
        if exc.retryable:
            raise
        return GuardDecision(cost=WEDGE, allowed=False, hold_reason=str(exc.detail)[:200])
    return decision


def download_queue_candidate(*, candidate: Candidate, client: MamClient, gap: MissingBook | None = None) -> Download:
    """Fetch the candidate's torrent and queue it (or hold it with the guard's reason).

    Side effects: a MAM torrent download, maybe a wedge spent (``USE_WEDGES``), a Download,
    the gap → ``queued`` (or ``found`` with the hold reason).  A gap that already has an
    active Download gets that one back.
    """
    if gap is not None:
        current = active_downloads().filter(missing_book=gap).first()
        if current is not None:
            gap_follow(current)  # a search racing with the queuing may have set the gap back to "found"
            return current
    data = client.download_torrent(dl=candidate.dl or None, tid=candidate.mam_torrent_id)
    meta = torrent_meta(data, field="torrent from MAM")
    decision = GuardDecision(cost=candidate.cost, allowed=candidate.allowed, hold_reason=candidate.hold_reason)
    existing = active_downloads().filter(info_hash=meta.info_hash).exists()
    if decision.allowed and not existing:
        decision = _spend_wedge(client, candidate.mam_torrent_id, decision)
    download, created = download_create(
        meta=meta,
        source=DownloadSource.MAM,
        torrent_bytes=data,
        title=candidate.title,
        author=", ".join(candidate.authors),
        mam_torrent_id=candidate.mam_torrent_id,
        gap=gap,
        is_free=candidate.is_free or (decision.uses_wedge and decision.allowed),
        is_vip=candidate.is_vip,
        used_wedge=decision.uses_wedge and decision.allowed,
        mam_details=mam_details(
            authors=candidate.authors,
            narrators=candidate.narrators,
            series=[(entry["name"], entry["position"]) for entry in candidate.series],
            fmt=candidate.format,
            language=candidate.language,
        ),
    )
    return _guarded(download, decision, created)


def _mam_row(client: MamClient, torrent_id: int, name: str) -> MamTorrent | None:
    """The search row of ``torrent_id`` (found by its name), for its freeleech/VIP flags."""
    if not name:
        return None
    for torrent in client.search(name_key(name)[:200]):
        if torrent.id == torrent_id:
            return torrent
    return None


def download_from_mam(
    *, torrent_id: int, client: MamClient | None = None, gap: MissingBook | None = None
) -> tuple[Download, bool]:
    """Queue MAM torrent ``torrent_id`` through the account guard (held when it refuses).

    The torrent's flags come from a search for its name; a torrent the search does not show
    is treated as paid, the safe assumption.
    """
    with _client(client) as mam:
        data = mam.download_torrent(tid=torrent_id)
        meta = torrent_meta(data, field="torrent from MAM")
        existing = active_downloads().filter(info_hash=meta.info_hash).first()
        if existing is not None:
            return existing, False
        row = _mam_row(mam, torrent_id, meta.name)
        account = account_state()
        if row is not None:
            decision = guard_check_torrent(account=account, torrent=row)
        else:
            decision = guard_check(account=account, size_bytes=meta.size_bytes)
        decision = _spend_wedge(mam, torrent_id, decision) if decision.allowed else decision
        download, created = download_create(
            meta=meta,
            source=DownloadSource.MAM,
            torrent_bytes=data,
            title=row.title if row else meta.name,
            author=", ".join(row.authors) if row else "",
            mam_torrent_id=torrent_id,
            gap=gap,
            is_free=decision.cost == FREE or (decision.uses_wedge and decision.allowed),
            is_vip=bool(row and (row.vip or row.fl_vip)),
            used_wedge=decision.uses_wedge and decision.allowed,
            mam_details=mam_details(
                authors=row.authors,
                narrators=row.narrators,
                series=row.series,
                fmt=row.filetype,
                language=row.lang_code,
            )
            if row
            else None,
        )
        return _guarded(download, decision, created), created


class _client:
    """``with _client(existing)``: use the caller's MAM client, or open (and close) one."""

    def __init__(self, client: MamClient | None):
        self.given, self.opened = client, None

    def __enter__(self) -> MamClient:
        if self.given is not None:
            return self.given
        self.opened = MamClient()
        return self.opened.__enter__()

    def __exit__(self, *exc_info):
        if self.opened is not None:
            self.opened.__exit__(*exc_info)


def mam_torrent_id_from_url(url: str) -> int:
    """The torrent id of a MAM download URL; any other host or shape is a 422 (never fetched)."""
    mam = urlsplit(settings.MAM_BASE_URL)
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises for a port that is not a number in 0-65535
    except ValueError as exc:  # e.g. "http://[::1" or "http://host:abc/"
        raise AppValidationError(f"torrent_url is not a valid URL: {exc}.") from exc
    if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() != (mam.hostname or "").lower():
        raise AppValidationError(f"torrent_url must be a {mam.hostname} URL; other hosts are never fetched.")
    if port != mam.port or parts.username or parts.password:
        raise AppValidationError(f"torrent_url must be a plain {mam.hostname} URL.")
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    for candidate in (query.get("tid", ""), query.get("id", ""), parts.path.rstrip("/").rsplit("/", 1)[-1]):
        if candidate.isdigit() and parts.path.startswith(("/tor/download.php", "/t/")):
            return int(candidate)
    raise AppValidationError("torrent_url must look like /t/<id> or /tor/download.php?tid=<id>.")


def download_from_magnet(*, magnet: str, title: str = "", gap: MissingBook | None = None) -> tuple[Download, bool]:
    """Queue a magnet link (source ``manual``; not a MAM torrent, so the guard does not apply)."""
    meta = magnet_meta(magnet)
    return download_create(meta=meta, source=DownloadSource.MANUAL, magnet=magnet.strip(), title=title, gap=gap)


def is_mam_torrent(meta: TorrentMeta) -> bool:
    tracker = (urlsplit(settings.MAM_TRACKER_URL).hostname or "").lower()
    site = (urlsplit(settings.MAM_BASE_URL).hostname or "").lower()
    hosts = meta.tracker_hosts - {""}
    return any(host in (tracker, site) or host.endswith(".myanonamouse.net") for host in hosts)


def download_from_upload(*, data: bytes, title: str = "", gap: MissingBook | None = None) -> tuple[Download, bool]:
    """Queue an uploaded ``.torrent`` (source ``upload``).

    A torrent announcing to MAM's tracker goes through the account guard as a paid download
    (its flags are unknown); others are queued as they are.
    """
    meta = torrent_meta(data)
    download, created = download_create(
        meta=meta, source=DownloadSource.UPLOAD, torrent_bytes=data, title=title, gap=gap
    )
    if created and is_mam_torrent(meta):
        download = _guarded(download, guard_check(account=account_state(), size_bytes=meta.size_bytes), created)
    return download, created


def gap_acquire(*, gap: MissingBook, client: MamClient | None = None) -> tuple[Download, list[Candidate]]:
    """Search MAM for ``gap`` and queue its best candidate (held when the guard refuses).

    Raises ``Conflict`` when the gap is completed or ignored, or MAM has no acceptable candidate.
    """
    if gap.status in (GapStatus.COMPLETED, GapStatus.IGNORED):
        raise Conflict(f"The gap is {gap.status}; it is not acquired.", context={"id": gap.pk, "status": gap.status})
    current = active_downloads().filter(missing_book=gap).first()
    if current is not None:
        return current, []
    with _client(client) as mam:
        candidates = gap_search(gap=gap, client=mam)
        best = best_candidate(candidates)
        if best is None:
            raise Conflict(
                "MAM has no acceptable candidate for this gap.",
                context={"id": gap.pk, "candidates": len(candidates)},
            )
        return download_queue_candidate(candidate=best, client=mam, gap=gap), candidates


# --- held downloads --------------------------------------------------------------------------------


def downloads_release_held(*, client: MamClient | None = None) -> list[int]:
    """Queue the held downloads the guard allows now (oldest first); returns their ids.

    Each one re-checks the guard against the account as it is after the previous release,
    so the budget is not spent twice.  A wedge is spent when the guard chooses one.
    """
    released = []
    for download in Download.objects.filter(status=DownloadStatus.HELD).order_by("priority", "created_at", "pk"):
        decision = guard_check(
            account=account_state(), size_bytes=download.size_bytes or 0, free=download.is_free, vip=download.is_vip
        )
        if not decision.allowed:
            if decision.hold_reason != download.last_error:
                Download.objects.filter(pk=download.pk, status=DownloadStatus.HELD).update(
                    last_error=decision.hold_reason
                )
            continue
        if decision.uses_wedge:
            if client is None or not download.mam_torrent_id:
                continue
            decision = _spend_wedge(client, download.mam_torrent_id, decision)
            if not decision.allowed:
                continue
            Download.objects.filter(pk=download.pk).update(used_wedge=True, is_free=True)
        try:
            download_release(download=download)
        except Conflict:
            continue  # someone else moved it
        released.append(download.pk)
    return released
