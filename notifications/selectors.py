"""Reads of targets and deliveries."""

from __future__ import annotations

from django.db.models import QuerySet

from notifications.models import Delivery, Target


def target_queryset() -> QuerySet[Target]:
    return Target.objects.all()


def delivery_queryset() -> QuerySet[Delivery]:
    # Lists show the target by id: no join needed.
    return Delivery.objects.all()
