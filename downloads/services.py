"""Acquisition services (writes)."""

from __future__ import annotations

from downloads.integrations.mam import MamClient
from downloads.models import MamAccountSnapshot
from scheduler.context import JobContext


def mam_account_snapshot_take() -> MamAccountSnapshot:
    """Ask MAM for the account summary and store it as a ``MamAccountSnapshot``.

    Side effects: one MAM request (paced; may store a rotated cookie or mark the session
    expired), one new snapshot row.  Raises ``ExternalApiError`` when MAM fails.
    """
    with MamClient() as client:
        fields = client.account()
    return MamAccountSnapshot.objects.create(**fields)


def mam_account_run(*, job: JobContext) -> dict:
    """The ``mam_account`` job: take an account snapshot (an expired session fails the run)."""
    snapshot = mam_account_snapshot_take()
    job.count(processed=1, succeeded=1)
    job.log(
        "MAM account %s: ratio %s, unsatisfied %d/%d, %d wedge(s).",
        snapshot.username,
        snapshot.ratio,
        snapshot.unsat_count,
        snapshot.unsat_limit,
        snapshot.wedges,
    )
    return {
        "snapshot": snapshot.pk,
        "ratio": str(snapshot.ratio) if snapshot.ratio is not None else None,
        "unsat": f"{snapshot.unsat_count}/{snapshot.unsat_limit}",
        "wedges": snapshot.wedges,
        "classname": snapshot.classname,
    }
