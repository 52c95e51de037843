"""Query filters and ordering allow-lists of ``/api/v1/notifications/``."""

from __future__ import annotations

from django_filters import rest_framework as filters

from mamcrawler.api.filters import IntegerFilter, StableOrderingFilter
from notifications.choices import DeliveryStatus, Event, TargetKind
from notifications.models import Delivery, Target


class TargetFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=TargetKind.choices)
    enabled = filters.BooleanFilter()
    digest = filters.BooleanFilter()
    ordering = StableOrderingFilter(fields=(("name", "name"), ("created_at", "created_at")))

    class Meta:
        model = Target
        fields = ["kind", "enabled", "digest"]


class DeliveryFilterSet(filters.FilterSet):
    target = IntegerFilter(field_name="target_id", label="Target id")
    event = filters.MultipleChoiceFilter(choices=Event.choices)
    status = filters.MultipleChoiceFilter(choices=DeliveryStatus.choices)
    job_run = IntegerFilter(field_name="job_run_id", label="Job run id")
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label="Created at or after")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt", label="Created before")
    ordering = StableOrderingFilter(
        fields=(("created_at", "created_at"), ("delivered_at", "delivered_at"), ("attempts", "attempts"))
    )

    class Meta:
        model = Delivery
        fields = ["target", "event", "status", "job_run", "created_after", "created_before"]
