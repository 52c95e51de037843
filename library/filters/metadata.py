"""Query filters and the ordering allow-list of ``/api/v1/metadata/corrections/``."""

from __future__ import annotations

from django_filters import rest_framework as filters

from library.models import CorrectionSource, MetadataCorrection
from mamcrawler.api.filters import IntegerFilter, StableOrderingFilter


class MetadataCorrectionFilterSet(filters.FilterSet):
    book = IntegerFilter(field_name="book", label="Book id")
    field = filters.CharFilter(field_name="field", label="Book field, e.g. publisher")
    source = filters.ChoiceFilter(choices=CorrectionSource.choices)
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label="Made at or after")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt", label="Made before")
    reverted = filters.BooleanFilter(field_name="reverted_at", lookup_expr="isnull", exclude=True, label="Reverted")
    ordering = StableOrderingFilter(
        fields=(("created_at", "created_at"), ("confidence", "confidence"), ("field", "field")),
    )

    class Meta:
        model = MetadataCorrection
        fields = ["book", "field", "source", "created_after", "created_before", "reverted"]
