"""What the account guard knows about the MAM account right now (SPEC §8.4).

The latest ``MamAccountSnapshot`` is refreshed when older than ``MAM_ACCOUNT_MAX_AGE``; paid
downloads queued since it was taken are added to it (their size to the downloaded bytes,
one unsatisfied torrent each), so a run that queues several books never overspends between
snapshots.  Without any snapshot every paid torrent is refused: free ones still go through.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from downloads.guard import AccountState, free_reason, paid_refusals
from downloads.models import Download, DownloadSource, DownloadStatus, MamAccountSnapshot

# The size the guard verdict is computed for: about one audiobook.
TYPICAL_SIZE_BYTES = 1024**3
# Downloads that never reached the tracker cost nothing.
NOT_SPENT = (DownloadStatus.HELD, DownloadStatus.CANCELLED)
PAID = Q(is_free=False, used_wedge=False) & ~Q(status__in=NOT_SPENT) & ~Q(source=DownloadSource.MANUAL)


def latest_snapshot() -> MamAccountSnapshot | None:
    return MamAccountSnapshot.objects.order_by("-taken_at", "-pk").first()


def snapshot_fresh(*, max_age: int | None = None) -> MamAccountSnapshot | None:
    """The latest snapshot, taking a new one from MAM first when it is missing or older than ``max_age`` s.

    Raises ``ExternalApiError`` when MAM has to be asked and fails (an expired session included).
    """
    from downloads.services import mam_account_snapshot_take

    snapshot = latest_snapshot()
    age = settings.MAM_ACCOUNT_MAX_AGE if max_age is None else max_age
    if snapshot is None or snapshot.taken_at < timezone.now() - timedelta(seconds=age):
        snapshot = mam_account_snapshot_take()
    return snapshot


def start_of_today():
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def account_state(*, snapshot: MamAccountSnapshot | None = None) -> AccountState:
    """The guard's view of the account: ``snapshot`` (default the latest) plus paid downloads since then."""
    snapshot = snapshot or latest_snapshot()
    today = Download.objects.filter(PAID, created_at__gte=start_of_today()).count()
    if snapshot is None:
        return AccountState(downloads_today=today)
    since = Download.objects.filter(PAID, created_at__gt=snapshot.taken_at).aggregate(
        count=Count("pk"), size=Sum("size_bytes")
    )
    wedges_spent = Download.objects.filter(used_wedge=True, created_at__gt=snapshot.taken_at).count()
    return AccountState(
        uploaded_bytes=snapshot.uploaded_bytes,
        downloaded_bytes=snapshot.downloaded_bytes + (since["size"] or 0),
        classname=snapshot.classname,
        unsat_count=snapshot.unsat_count + since["count"],
        unsat_limit=snapshot.unsat_limit,
        wedges=max(0, snapshot.wedges - wedges_spent),
        site_freeleech=snapshot.site_freeleech,
        downloads_today=today,
    )


def guard_verdict() -> str:
    """What the account guard says about a typical (1 GiB) paid download right now (SPEC §8.4)."""
    account = account_state()
    if free_reason(account=account, free=False, personal_freeleech=False, vip=False):
        return "Paid downloads: allowed (site-wide freeleech: every download is free)"
    if latest_snapshot() is None:
        return "Paid downloads: held: no MAM account snapshot yet (run the mam_account job)"
    refusals = paid_refusals(account=account, size_bytes=TYPICAL_SIZE_BYTES)
    if not refusals:
        return "Paid downloads: allowed"
    return f"Paid downloads: held: {'; '.join(refusals.values())}"
