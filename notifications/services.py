"""Sending deliveries: claim, send, record the attempt, schedule the retry (SPEC §10.1).

A pending delivery is claimed by a conditional update (its ``next_attempt_at`` moves a few
minutes ahead), so its task and the retry sweep never send it twice.  A failure that may
pass (connection refused, timeout, 5xx, 429) is retried after ``NOTIFY_RETRY_BASE_SECONDS``
× 2^(attempt − 1), at most ``NOTIFY_MAX_ATTEMPTS`` attempts; a refusal (4xx, redirect,
unsafe address, bad Apprise URL) fails at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from notifications import transports
from notifications.choices import DeliveryStatus, Event
from notifications.events import CLAIM_SECONDS, envelope
from notifications.models import Delivery, Target

logger = logging.getLogger("mamcrawler.notifications")

S = DeliveryStatus


def retry_delay(attempts: int) -> timedelta:
    """The wait before the next attempt after ``attempts`` failed ones."""
    return timedelta(seconds=settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))


def delivery_send(*, delivery_id: int, retry: bool = True, force: bool = False) -> Delivery | None:
    """Send one pending delivery now and record the attempt; returns it (None when it is gone).

    ``retry=False`` makes a failure final (test messages); ``force`` sends to a disabled target.
    Side effects: an HTTP request (webhook or Apprise), the Delivery (and its digest parts) updated.
    """
    delivery = Delivery.objects.select_related("target").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != S.PENDING:
        return delivery
    claim_until = timezone.now() + timedelta(seconds=CLAIM_SECONDS)
    claimed = Delivery.objects.filter(
        pk=delivery.pk, status=S.PENDING, attempts=delivery.attempts, next_attempt_at=delivery.next_attempt_at
    ).update(next_attempt_at=claim_until)
    if not claimed:
        return delivery  # another worker has it
    if not delivery.target.enabled and not force:
        outcome = transports.Outcome(False, error="The target is disabled.")
    else:
        outcome = transports.send(delivery.target, delivery.payload)
    return _record(delivery, outcome, retry=retry)


def _record(delivery: Delivery, outcome: transports.Outcome, *, retry: bool) -> Delivery:
    now = timezone.now()
    delivery.attempts += 1
    delivery.response_code = outcome.response_code
    delivery.error = outcome.error
    if outcome.delivered:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = S.DELIVERED, now, None
    elif outcome.retryable and retry and delivery.attempts < settings.NOTIFY_MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = S.PENDING, now + retry_delay(delivery.attempts)
    else:
        delivery.status, delivery.next_attempt_at = S.FAILED, None
    delivery.save(update_fields=["attempts", "response_code", "error", "status", "delivered_at", "next_attempt_at"])
    if delivery.event == Event.DIGEST and delivery.status != S.PENDING:
        delivery.parts.update(
            status=delivery.status,
            delivered_at=delivery.delivered_at,
            error=delivery.error,
            response_code=delivery.response_code,
        )
    # Target by id and name: its URL may hold credentials and its secret is never logged.
    log = logger.info if delivery.status == S.DELIVERED else logger.warning
    log(
        "Notification %s #%s to target %s (%s): %s after %d attempt(s)%s",
        delivery.event,
        delivery.pk,
        delivery.target_id,
        delivery.target.name,
        delivery.status,
        delivery.attempts,
        f" - {delivery.error}" if delivery.error else "",
    )
    return delivery


def target_test(*, target: Target) -> Delivery:
    """Send the ``test`` event to ``target`` now, in this process, once; returns its Delivery.

    Side effects: a Delivery row and an HTTP request (even to a disabled target).
    """
    data = {"target_id": target.pk, "target": target.name, "message": "A test notification from MAMcrawler."}
    delivery = Delivery.objects.create(target=target, event=Event.TEST, payload=envelope(Event.TEST, data))
    return delivery_send(delivery_id=delivery.pk, retry=False, force=True)


def deliveries_send_due(*, limit: int = 200) -> dict:
    """Send pending deliveries whose retry time (or unclaimed hand-off) has passed.

    Digests of job runs that ended without flushing them (a worker died) are flushed first.
    """
    from notifications.events import flush_digest
    from scheduler.choices import FINAL_STATUSES
    from scheduler.models import JobRun

    waiting_runs = set(
        Delivery.objects.filter(
            status=S.PENDING, next_attempt_at__isnull=True, digest__isnull=True, job_run_id__isnull=False
        ).values_list("job_run_id", flat=True)
    )
    open_runs = set(
        JobRun.objects.filter(pk__in=waiting_runs).exclude(status__in=FINAL_STATUSES).values_list("pk", flat=True)
    )
    flushed = sum(flush_digest(run_id) for run_id in waiting_runs - open_runs)
    due = list(
        Delivery.objects.filter(status=S.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    counts = {"due": len(due), "delivered": 0, "failed": 0, "pending": 0, "digests_flushed": flushed}
    for pk in due:
        delivery = delivery_send(delivery_id=pk)
        if delivery is not None:
            counts[delivery.status] = counts.get(delivery.status, 0) + 1
    return counts
