"""Emitting notifications: ``notify(event, data)`` from anywhere, digests flushed when a job run ends.

``notify`` is cheap (one query for the targets, one bulk insert) and never raises: a broken
notification must not break an import or a job.  It records one pending Delivery per
enabled target subscribed to the event and hands them to the worker once the transaction
commits; nothing is sent over the network here.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from notifications.choices import SUBSCRIBABLE, DeliveryStatus, Event
from notifications.models import Delivery, Target

logger = logging.getLogger("mamcrawler.notifications")

# A delivery handed to the worker is picked up by the retry sweep if its task never ran.
CLAIM_SECONDS = 300
TASK_TIMEOUT_SECONDS = 120


def envelope(event: str, data: dict, occurred_at=None) -> dict:
    """The message as webhooks receive it: ``{"event", "occurred_at", "data"}`` (JSON-safe)."""
    occurred = (occurred_at or timezone.now()).isoformat().replace("+00:00", "Z")
    return {"event": event, "occurred_at": occurred, "data": json.loads(json.dumps(data, default=str))}


def notify(
    event: str,
    data: dict,
    *,
    job_run_id: int | None = None,
    dedupe_key: str | None = None,
    dedupe_seconds: int = 3600,
) -> int:
    """Record ``event`` for every enabled target subscribed to it; returns how many deliveries.

    ``job_run_id`` names the job run that emitted it (found from this process's job lock when
    not given): a digest target then gets the event with the run's others once the run ends.
    ``dedupe_key``: the same event with the same key is recorded at most once per
    ``dedupe_seconds`` (e.g. an integration that stays down).  Never raises.
    """
    try:
        return _notify(event, data, job_run_id=job_run_id, dedupe_key=dedupe_key, dedupe_seconds=dedupe_seconds)
    except Exception:  # noqa: BLE001 - a notification must never break its caller
        logger.exception("Could not record the %s notification", event)
        return 0


def _notify(event: str, data: dict, *, job_run_id, dedupe_key, dedupe_seconds) -> int:
    if event not in SUBSCRIBABLE:
        raise ValueError(f"Unknown notification event {event!r}.")
    targets = [t for t in Target.objects.filter(enabled=True).only("id", "events", "digest") if t.subscribes(event)]
    if not targets:
        return 0
    if dedupe_key and not cache.add(f"notify:{event}:{dedupe_key}", 1, timeout=dedupe_seconds):
        return 0
    now = timezone.now()
    if job_run_id is None and any(target.digest for target in targets):
        job_run_id = current_job_run_id()
    payload = envelope(event, data, now)
    rows = [
        Delivery(
            target=target,
            event=event,
            payload=payload,
            job_run_id=job_run_id,
            # A digest target's event waits for the end of its run (``flush_digest``).
            next_attempt_at=None if target.digest and job_run_id else now + timedelta(seconds=CLAIM_SECONDS),
        )
        for target in targets
    ]
    created = Delivery.objects.bulk_create(rows)
    deliveries_enqueue([row.pk for row in created if row.next_attempt_at is not None])
    return len(created)


def current_job_run_id() -> int | None:
    """The job run this process is executing, when it executes exactly one."""
    from scheduler.locks import worker_name
    from scheduler.models import JobLock

    runs = list(
        JobLock.objects.filter(owner=worker_name(), expires_at__gte=timezone.now()).values_list("run_id", flat=True)[:2]
    )
    return runs[0] if len(runs) == 1 else None


def deliveries_enqueue(ids: list[int]) -> None:
    """Hand deliveries to the worker once the current transaction commits."""
    if ids:
        transaction.on_commit(lambda: _submit(ids))


def _submit(ids: list[int]) -> None:
    from django_q.tasks import async_task

    for pk in ids:
        try:
            async_task(
                "notifications.tasks.delivery_send_task", pk, task_name=f"notify#{pk}", timeout=TASK_TIMEOUT_SECONDS
            )
        except Exception:  # noqa: BLE001 - the retry sweep sends it once its claim time has passed
            logger.exception("Could not queue notification delivery %s", pk)


def flush_digest(job_run_id: int, *, job: str = "") -> int:
    """Send what digest targets collected during job run ``job_run_id``: one message per target.

    A single event goes as itself; several become one ``digest`` delivery whose ``parts`` are
    the collected ones (they take its outcome).  Returns how many deliveries were queued.
    """
    waiting = list(
        Delivery.objects.filter(
            job_run_id=job_run_id, status=DeliveryStatus.PENDING, next_attempt_at__isnull=True, digest__isnull=True
        ).order_by("id")
    )
    if not waiting:
        return 0
    now = timezone.now()
    due = now + timedelta(seconds=CLAIM_SECONDS)
    by_target: dict[int, list[Delivery]] = {}
    for delivery in waiting:
        by_target.setdefault(delivery.target_id, []).append(delivery)
    ready: list[int] = []
    with transaction.atomic():
        for target_id, parts in by_target.items():
            if len(parts) == 1:
                Delivery.objects.filter(pk=parts[0].pk).update(next_attempt_at=due)
                ready.append(parts[0].pk)
                continue
            data = {"job_run_id": job_run_id, "job": job, "count": len(parts), "events": [p.payload for p in parts]}
            combined = Delivery.objects.create(
                target_id=target_id,
                event=Event.DIGEST,
                payload=envelope(Event.DIGEST, data, now),
                job_run_id=job_run_id,
                next_attempt_at=due,
            )
            Delivery.objects.filter(pk__in=[p.pk for p in parts]).update(digest=combined)
            ready.append(combined.pk)
        deliveries_enqueue(ready)
    return len(ready)


def job_run_finished(run) -> None:
    """Called by the scheduler when a run ends: ``job_failed`` when it failed, then its digests."""
    try:
        if run.status == "failed":
            data = {"job": run.job, "job_run_id": run.pk, "trigger": run.trigger, "error": run.error[:2000]}
            notify(Event.JOB_FAILED, data, job_run_id=run.pk)
        flush_digest(run.pk, job=run.job)
    except Exception:  # noqa: BLE001 - a job's outcome is recorded already; never undo that
        logger.exception("Could not send the notifications of job run %s", run.pk)


# --- payloads of the events emitted by the other apps ------------------------------------------


def download_data(download) -> dict:
    """What ``book_imported`` / ``download_failed`` / ``download_held`` say about a Download."""
    data = {
        "download_id": download.pk,
        "title": download.title,
        "status": download.status,
        "gap_id": download.missing_book_id,
        "error": download.last_error,
    }
    book = download.book if download.book_id else None
    if book is not None:
        data["book_id"] = book.pk
        data["title"] = book.title
        links = book.book_authors.select_related("author").order_by("position")
        data["authors"] = [link.author.name for link in links]
    return data
