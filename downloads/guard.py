"""The account guard (SPEC §8.4): may this torrent be downloaded now, and at what cost?

Pure functions over an ``AccountState`` (the latest account snapshot, today's paid download
count and the site-wide freeleech flag); nothing here touches the database or MAM.

* Free: site-wide freeleech, a ``free`` or ``personal_freeleech`` torrent, or a ``vip`` /
  ``fl_vip`` torrent with a VIP account (class VIP or Elite VIP).  Always allowed.
* Paid ("ratio"): allowed only if the ratio after adding the size to the downloaded bytes
  stays at or above ``MIN_RATIO``, unsatisfied count + 1 ≤ limit − ``UNSAT_MARGIN`` and
  fewer than ``DAILY_DOWNLOAD_BUDGET`` paid downloads were made today.
* Wedge: with ``USE_WEDGES`` and a wedge in hand, a paid torrent that only fails the ratio
  check is made free with a wedge (unsatisfied and budget limits still apply).  Wedges are
  never spent on free or VIP torrents.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

FREE, RATIO, WEDGE = "free", "ratio", "wedge"
VIP_CLASSES = {"vip", "elite vip"}


@dataclass(frozen=True)
class AccountState:
    """What the guard needs to know about the account."""

    uploaded_bytes: int = 0
    downloaded_bytes: int = 0
    classname: str = ""
    unsat_count: int = 0
    unsat_limit: int = 0
    wedges: int = 0
    site_freeleech: bool = False
    downloads_today: int = 0

    @classmethod
    def from_snapshot(cls, snapshot, *, downloads_today: int = 0, site_freeleech: bool | None = None) -> AccountState:
        """From a ``MamAccountSnapshot``; ``site_freeleech`` overrides the snapshot's flag."""
        return cls(
            uploaded_bytes=snapshot.uploaded_bytes,
            downloaded_bytes=snapshot.downloaded_bytes,
            classname=snapshot.classname,
            unsat_count=snapshot.unsat_count,
            unsat_limit=snapshot.unsat_limit,
            wedges=snapshot.wedges,
            site_freeleech=snapshot.site_freeleech if site_freeleech is None else site_freeleech,
            downloads_today=downloads_today,
        )

    @property
    def is_vip(self) -> bool:
        return self.classname.strip().lower() in VIP_CLASSES

    def ratio_after(self, size_bytes: int) -> Decimal | None:
        """The ratio once ``size_bytes`` more are downloaded (None: nothing downloaded, infinite)."""
        downloaded = self.downloaded_bytes + max(0, size_bytes)
        if downloaded <= 0:
            return None
        return Decimal(self.uploaded_bytes) / Decimal(downloaded)


@dataclass(frozen=True)
class GuardDecision:
    cost: str  # free | ratio | wedge
    allowed: bool
    hold_reason: str = ""

    @property
    def uses_wedge(self) -> bool:
        return self.cost == WEDGE


def free_reason(*, account: AccountState, free: bool, personal_freeleech: bool, vip: bool) -> str:
    """Why the torrent costs nothing ("" when it is paid)."""
    if account.site_freeleech:
        return "site-wide freeleech"
    if free:
        return "freeleech torrent"
    if personal_freeleech:
        return "personal freeleech"
    if vip and account.is_vip:
        return "VIP torrent with a VIP account"
    return ""


def paid_refusals(*, account: AccountState, size_bytes: int) -> dict[str, str]:
    """The checks a paid download fails: ``{"ratio"|"unsat"|"budget": reason}``."""
    refusals = {}
    ratio = account.ratio_after(size_bytes)
    floor = Decimal(str(settings.MIN_RATIO))
    if ratio is not None and ratio < floor:
        refusals["ratio"] = f"ratio {ratio.quantize(Decimal('0.01'))} below {floor}"
    allowed_unsat = account.unsat_limit - settings.UNSAT_MARGIN
    if account.unsat_count + 1 > allowed_unsat:
        refusals["unsat"] = (
            f"unsatisfied {account.unsat_count} + 1 above limit {account.unsat_limit} − margin {settings.UNSAT_MARGIN}"
        )
    if account.downloads_today >= settings.DAILY_DOWNLOAD_BUDGET:
        refusals["budget"] = f"daily download budget of {settings.DAILY_DOWNLOAD_BUDGET} used"
    return refusals


def guard_check(
    *,
    account: AccountState,
    size_bytes: int,
    free: bool = False,
    personal_freeleech: bool = False,
    vip: bool = False,
    use_wedges: bool | None = None,
) -> GuardDecision:
    """The cost of downloading a torrent and whether it is allowed now (with the reason if not)."""
    if free_reason(account=account, free=free, personal_freeleech=personal_freeleech, vip=vip):
        return GuardDecision(cost=FREE, allowed=True)
    refusals = paid_refusals(account=account, size_bytes=size_bytes)
    if not refusals:
        return GuardDecision(cost=RATIO, allowed=True)
    use_wedges = settings.USE_WEDGES if use_wedges is None else use_wedges
    if use_wedges and account.wedges > 0 and set(refusals) == {"ratio"}:
        return GuardDecision(cost=WEDGE, allowed=True)
    return GuardDecision(cost=RATIO, allowed=False, hold_reason="; ".join(refusals.values()))


def guard_check_torrent(*, account: AccountState, torrent, use_wedges: bool | None = None) -> GuardDecision:
    """``guard_check`` for a ``MamTorrent`` (``vip`` or ``fl_vip`` count as VIP)."""
    return guard_check(
        account=account,
        size_bytes=torrent.size_bytes,
        free=torrent.free,
        personal_freeleech=torrent.personal_freeleech,
        vip=torrent.vip or torrent.fl_vip,
        use_wedges=use_wedges,
    )
