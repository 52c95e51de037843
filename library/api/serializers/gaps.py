"""Gap representations (SPEC §4.1 MissingBook), the inputs of the gaps API, and report shapes.

``status``, ``reason`` and the analysis ``scope`` are named enum components (``GapStatus``,
``GapReason``, ``GapSettableStatus``, ``GapAnalysisScope``) so they never collide with the
other ``status`` enums of the schema.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent, build_choice_field
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from library.api.serializers.nested import BriefSerializer
from library.models import Author, MissingBook, Series
from library.models_gaps import GapReason, GapStatus
from library.positions import format_position
from library.services.gaps import SETTABLE_STATUSES
from scheduler.api.serializers import JobRunSerializer


class NamedChoiceField(serializers.ChoiceField):
    """A choice field documented as its own enum component, ``component``."""

    def __init__(self, *, component: str, **kwargs):
        self.component = component
        super().__init__(**kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema, direction):
        schema = build_choice_field(self.target)
        schema.pop("x-spec-enum-id", None)
        name = self.target.component
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        auto_schema.registry.register_on_missing(component)
        return component.ref


class GapAuthorSerializer(serializers.Serializer):
    """An author of a gap: ``id`` is null for a name only a provider gave."""

    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()


class GapSerializer(serializers.ModelSerializer):
    """A missing book.  Querysets come from ``library.selectors.gaps.gap_queryset``."""

    authors = serializers.SerializerMethodField()
    series = serializers.SerializerMethodField()
    position = serializers.SerializerMethodField(help_text='Decimal string such as "2.5", or null.')
    reason = NamedChoiceField(component="GapReason", choices=GapReason.choices, read_only=True)
    status = NamedChoiceField(component="GapStatus", choices=GapStatus.choices, read_only=True)
    identifiers = serializers.SerializerMethodField()
    best_candidate = serializers.SerializerMethodField()
    hold_reason = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()
    resolved_book = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = MissingBook
        fields = [
            "id",
            "title",
            "authors",
            "series",
            "position",
            "position_label",
            "reason",
            "status",
            "priority",
            "identifiers",
            "first_seen",
            "last_seen",
            "best_candidate",
            "hold_reason",
            "download",
            "resolved_book",
            "resolved_at",
            "published_date",
            "language",
            "sources",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(GapAuthorSerializer(many=True))
    def get_authors(self, gap: MissingBook) -> list[dict]:
        linked = [{"id": author.id, "name": author.name} for author in gap.authors.all()]
        return linked or [{"id": None, "name": name} for name in gap.author_names]

    @extend_schema_field(BriefSerializer(allow_null=True))
    def get_series(self, gap: MissingBook) -> dict | None:
        series: Series | None = gap.series
        return None if series is None else {"id": series.id, "name": series.name}

    def get_position(self, gap: MissingBook) -> str | None:
        return format_position(gap.position)

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "isbn, asin and provider ids (openlibrary, hardcover, …); empty ones left out.",
        }
    )
    def get_identifiers(self, gap: MissingBook) -> dict:
        known = {"isbn": gap.isbn, "asin": gap.asin, **(gap.identifiers or {})}
        return {name: value for name, value in known.items() if value}

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "additionalProperties": True,
            "description": "The best MAM candidate found for the gap, with its `cost` (free, ratio, wedge).",
        }
    )
    def get_best_candidate(self, gap: MissingBook) -> dict | None:
        if not gap.best_candidate:
            return None
        # ``dl`` is MAM's personal download token for the account: never shown.
        return {name: value for name, value in gap.best_candidate.items() if name != "dl"}

    def get_hold_reason(self, gap: MissingBook) -> str | None:
        return gap.hold_reason or None

    @extend_schema_field(OpenApiTypes.INT)
    def get_download(self, gap: MissingBook) -> int | None:
        # Annotated by ``gap_queryset``: the active download, else the newest one.
        return getattr(gap, "download_id", None)


class GapUpdateInput(serializers.Serializer):
    """PATCH body of ``gaps/{id}/``: a priority, and/or ``ignored`` / ``wanted``."""

    priority = serializers.IntegerField(required=False, min_value=1, max_value=3, help_text="1 high … 3 low.")
    status = NamedChoiceField(
        component="GapSettableStatus",
        choices=[(value, GapStatus(value).label) for value in SETTABLE_STATUSES],
        required=False,
        help_text="Only `ignored` or `wanted`; the other states belong to analysis and acquisition.",
    )


MAX_IDS = 10000
MAX_ID = 2**63 - 1  # a larger id made the id__in lookup raise OverflowError (a 500)


class GapAnalyzeInput(serializers.Serializer):
    """POST body of ``gaps/analyze/``."""

    scope = NamedChoiceField(
        component="GapAnalysisScope",
        choices=[("all", "All"), ("series", "Series"), ("authors", "Authors")],
        required=False,
        default="all",
        help_text="`all`: series and monitored authors; `series` or `authors` alone (the ids given, or all).",
    )
    series_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=MAX_IDS,
        help_text="With `series`.",
    )
    author_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=MAX_IDS,
        help_text="With `authors`.",
    )
    full = serializers.BooleanField(
        required=False, default=False, help_text="Analyse unchanged series and authors too (not only changed or due)."
    )

    def validate(self, data):
        scope = data.get("scope", "all")
        for field, model, own_scope in (("series_ids", Series, "series"), ("author_ids", Author, "authors")):
            ids = data.get(field) or []
            if ids and scope != own_scope:
                raise serializers.ValidationError({field: [f"Only with scope {own_scope}."]})
            unknown = sorted(set(ids) - set(model.objects.filter(id__in=ids).values_list("id", flat=True)))
            if unknown:
                raise serializers.ValidationError({field: [f"Unknown ids: {', '.join(map(str, unknown[:20]))}."]})
        return data


class GapReasonCountsSerializer(serializers.Serializer):
    series_gap = serializers.IntegerField()
    author_gap = serializers.IntegerField()
    wishlist = serializers.IntegerField()


class GapStatusCountsSerializer(serializers.Serializer):
    identified = serializers.IntegerField()
    wanted = serializers.IntegerField()
    searching = serializers.IntegerField()
    found = serializers.IntegerField()
    queued = serializers.IntegerField()
    downloading = serializers.IntegerField()
    completed = serializers.IntegerField()
    not_found = serializers.IntegerField()
    ignored = serializers.IntegerField()
    failed = serializers.IntegerField()


class GapPriorityCountsSerializer(serializers.Serializer):
    high = serializers.IntegerField(help_text="Priority 1.")
    normal = serializers.IntegerField(help_text="Priority 2.")
    low = serializers.IntegerField(help_text="Priority 3.")


class GapStatsSerializer(serializers.Serializer):
    """``gaps/stats/``: every gap counted by reason, status and priority."""

    total = serializers.IntegerField()
    missing = serializers.IntegerField(help_text="Neither completed nor ignored.")
    available = serializers.IntegerField(help_text="With a MAM candidate.")
    free = serializers.IntegerField(help_text="With a candidate that costs no ratio.")
    by_reason = GapReasonCountsSerializer()
    by_status = GapStatusCountsSerializer()
    by_priority = GapPriorityCountsSerializer(help_text="Missing gaps per priority.")


class GapTopSeriesSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    missing = serializers.IntegerField()


class GapReportSerializer(serializers.Serializer):
    """``gaps/report/``: the latest analysis run and where the library stands now."""

    run = JobRunSerializer(allow_null=True, help_text="The latest finished gap_analysis run, or null.")
    duration_seconds = serializers.FloatField(allow_null=True)
    summary = serializers.DictField(help_text="The run's counts: series checked, gaps new/updated/resolved, …")
    by_reason = GapReasonCountsSerializer(help_text="Missing gaps (neither completed nor ignored) per reason.")
    by_status = GapStatusCountsSerializer(help_text="Every gap per status.")
    top_series = GapTopSeriesSerializer(many=True, help_text="The 10 series with the most missing gaps.")
