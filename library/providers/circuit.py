"""The providers' circuit breaker and counters, kept in ``ProviderState`` so every process shares them.

Closed: calls go through.  After ``CIRCUIT_FAILURES`` consecutive failures the circuit
opens: the provider is skipped until ``opened_until`` (``CIRCUIT_COOLDOWN`` seconds).
Then it is half-open: the first caller claims one trial call (by moving ``opened_until``
forward with a conditional UPDATE, so concurrent workers do not all try); a success
closes the circuit, a failure opens it for another cool-down.  Counters change only
through UPDATEs with F expressions, never read-modify-write.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from library.models import ProviderState

logger = logging.getLogger("mamcrawler.library")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


def circuit_state(state: ProviderState | None, *, now: datetime | None = None) -> str:
    """``closed``, ``open`` (skipped until ``opened_until``) or ``half_open`` (next call is a trial)."""
    if state is None or state.opened_until is None:
        return CLOSED
    return OPEN if state.opened_until > (now or timezone.now()) else HALF_OPEN


def circuit_allows(provider: str) -> bool:
    """True when a call may go out now (closed, or this caller won the half-open trial)."""
    state, _ = ProviderState.objects.get_or_create(provider=provider)
    now = timezone.now()
    current = circuit_state(state, now=now)
    if current == CLOSED:
        return True
    if current == OPEN:
        return False
    claimed = ProviderState.objects.filter(provider=provider, opened_until=state.opened_until).update(
        opened_until=now + timedelta(seconds=settings.CIRCUIT_COOLDOWN)
    )
    if claimed:
        logger.info("Metadata provider %s: circuit half-open, trying one call.", provider)
    return bool(claimed)


def circuit_success(provider: str) -> None:
    """Count a call that worked; it closes the circuit."""
    ProviderState.objects.filter(provider=provider).update(
        requests=F("requests") + 1,
        consecutive_failures=0,
        opened_until=None,
        last_success_at=timezone.now(),
    )


def circuit_failure(provider: str, error: str) -> None:
    """Count a failed call; the ``CIRCUIT_FAILURES``-th in a row opens the circuit."""
    now = timezone.now()
    ProviderState.objects.filter(provider=provider).update(
        requests=F("requests") + 1,
        failures=F("failures") + 1,
        consecutive_failures=F("consecutive_failures") + 1,
        last_failure_at=now,
        last_error=error[:500],
    )
    opened = ProviderState.objects.filter(
        provider=provider, consecutive_failures__gte=max(1, settings.CIRCUIT_FAILURES)
    ).update(opened_until=now + timedelta(seconds=settings.CIRCUIT_COOLDOWN))
    if opened:
        logger.warning(
            "Metadata provider %s: circuit open for %ss after repeated failures.", provider, settings.CIRCUIT_COOLDOWN
        )
