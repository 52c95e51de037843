"""Query filters and the ordering allow-list of ``/api/v1/scheduler/runs/``."""

from __future__ import annotations

from django_filters import rest_framework as filters

from mamcrawler.api.filters import StableOrderingFilter
from scheduler.choices import RunStatus, Trigger
from scheduler.models import JobRun


class JobRunFilterSet(filters.FilterSet):
    job = filters.CharFilter(label="Job name")
    status = filters.MultipleChoiceFilter(choices=RunStatus.choices)
    trigger = filters.MultipleChoiceFilter(choices=Trigger.choices)
    queued_after = filters.DateTimeFilter(field_name="queued_at", lookup_expr="gte", label="Queued at or after")
    queued_before = filters.DateTimeFilter(field_name="queued_at", lookup_expr="lt", label="Queued before")
    started_after = filters.DateTimeFilter(field_name="started_at", lookup_expr="gte", label="Started at or after")
    started_before = filters.DateTimeFilter(field_name="started_at", lookup_expr="lt", label="Started before")
    ordering = StableOrderingFilter(
        fields=(("queued_at", "queued_at"), ("started_at", "started_at"), ("duration_seconds", "duration")),
    )

    class Meta:
        model = JobRun
        fields = [
            "job",
            "status",
            "trigger",
            "queued_after",
            "queued_before",
            "started_after",
            "started_before",
        ]
