"""Worker tasks: each takes an id, loads, calls a service."""

from __future__ import annotations

from notifications.services import delivery_send


def delivery_send_task(delivery_id: int) -> str | None:
    """Send one queued delivery (idempotent: a delivery no longer pending is left alone)."""
    delivery = delivery_send(delivery_id=delivery_id)
    return delivery.status if delivery is not None else None
