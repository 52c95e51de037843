"""Metadata API shapes: corrections (SPEC §4.1), correction results, lookups, figures, inputs."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent, build_choice_field
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from library.api.serializers.books import MAX_ID, BookDetailSerializer
from library.models import CorrectionSource, MetadataCorrection
from library.selectors import books as book_selectors
from library.services.metadata import CorrectionResult, SkipReason
from library.services.metadata_merge import MERGE_FIELDS, Candidate

MAX_DAYS = 3650
MAX_LIMIT = 10_000


# --- named enums --------------------------------------------------------------------------------


class NamedChoiceField(serializers.ChoiceField):
    """A choice field documented as its own schema component ``component`` (no name clashes)."""

    def __init__(self, *, component: str, **kwargs):
        self.component = component
        super().__init__(**kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = build_choice_field(self.target)
        schema.pop("x-spec-enum-id", None)
        schema.pop("nullable", None)
        name = self.target.component
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        auto_schema.registry.register_on_missing(component)
        if getattr(self.target, "allow_null", False):
            return {"allOf": [component.ref], "nullable": True}
        return component.ref


def correction_source_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(component="CorrectionSource", choices=CorrectionSource.choices, **kwargs)


def provider_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(component="MetadataProviderName", choices=settings.METADATA_PROVIDER_NAMES, **kwargs)


# --- corrections --------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "nullable": True, "example": "editor"})
class CreatedByField(serializers.Field):
    """The username of whoever made the change, ``job:<run id>`` for a job, or null."""

    def __init__(self, **kwargs):
        kwargs.update(source="*", read_only=True)
        super().__init__(**kwargs)

    def to_representation(self, correction: MetadataCorrection):
        username = getattr(correction, "created_by_username", None)
        if username is None and correction.created_by_id:
            username = correction.created_by.username
        if username:
            return username
        if correction.job_run_id:
            return f"job:{correction.job_run_id}"
        return None


class MetadataCorrectionSerializer(serializers.ModelSerializer):
    """One change of one book field (SPEC §4.1); querysets annotate the names shown."""

    book_title = serializers.CharField(read_only=True, help_text="The book's title now.")
    source = correction_source_field(read_only=True)
    old_value = serializers.JSONField(read_only=True, allow_null=True, help_text="Value before (JSON).")
    new_value = serializers.JSONField(read_only=True, allow_null=True, help_text="Value after (JSON).")
    created_by = CreatedByField()
    reverted_by = serializers.CharField(
        source="reverted_by_username", read_only=True, allow_null=True, help_text="Username."
    )

    class Meta:
        model = MetadataCorrection
        fields = [
            "id",
            "book",
            "book_title",
            "field",
            "old_value",
            "new_value",
            "source",
            "reason",
            "confidence",
            "created_at",
            "created_by",
            "job_run",
            "reverted_at",
            "reverted_by",
            "reverts",
        ]
        read_only_fields = fields


class CorrectionRevertInput(serializers.Serializer):
    force = serializers.BooleanField(
        required=False, default=False, help_text="Revert even if the field changed since or is locked."
    )


class CorrectionRevertResultSerializer(serializers.Serializer):
    reverted = MetadataCorrectionSerializer(help_text="The correction undone, now with `reverted_at`.")
    correction = MetadataCorrectionSerializer(
        allow_null=True, help_text="The correction the revert wrote (null when the value was already back)."
    )


# --- correcting -----------------------------------------------------------------------------------


class CorrectionOptionsInput(serializers.Serializer):
    """How to correct: fill empty fields only, or also overwrite; which providers to ask."""

    overwrite = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also replace filled fields when the provider is more confident than the current source.",
    )
    force = serializers.BooleanField(required=False, default=False, help_text="Same as `overwrite`.")
    providers = serializers.ListField(
        child=provider_field(),
        required=False,
        allow_empty=False,
        max_length=len(settings.METADATA_PROVIDER_NAMES),
        help_text="Ask only these providers (default: every enabled one, in order).",
    )

    def options(self) -> dict:
        data = self.validated_data
        return {"overwrite": data["overwrite"] or data["force"], "providers": data.get("providers")}


class CorrectBookInput(CorrectionOptionsInput):
    book_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class CorrectAllInput(serializers.Serializer):
    threshold = serializers.IntegerField(
        required=False, min_value=0, max_value=100, help_text="Only books whose completeness is below this."
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_LIMIT, help_text="At most this many books (METADATA_REFRESH_LIMIT)."
    )
    overwrite = serializers.BooleanField(required=False, default=False, help_text="As in `correct-book/`.")

    def params(self) -> dict:
        return {key: value for key, value in self.validated_data.items() if value not in (None, False)}


class CorrectRecentInput(CorrectAllInput):
    threshold = None
    days = serializers.IntegerField(
        required=False, default=7, min_value=1, max_value=MAX_DAYS, help_text="Books added or changed in these days."
    )


class CandidateSerializer(serializers.Serializer):
    """A provider's record and whether it was taken for the book."""

    provider = serializers.CharField()
    title = serializers.CharField()
    authors = serializers.ListField(child=serializers.CharField())
    isbn = serializers.CharField()
    asin = serializers.CharField()
    duration_seconds = serializers.IntegerField(allow_null=True)
    accepted = serializers.BooleanField()
    confidence = serializers.FloatField()
    reason = serializers.CharField(help_text='Why: "ISBN match", "title 96, author 100", …')

    def to_representation(self, candidate: Candidate) -> dict:
        record = candidate.record
        return {
            "provider": record.provider,
            "title": record.title,
            "authors": list(record.authors),
            "isbn": record.isbn,
            "asin": record.asin,
            "duration_seconds": record.duration_seconds,
            "accepted": candidate.accepted,
            "confidence": candidate.confidence,
            "reason": candidate.reason,
        }


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old_value = serializers.JSONField(source="old", allow_null=True)
    new_value = serializers.JSONField(source="new", allow_null=True)
    source = correction_source_field()
    confidence = serializers.FloatField()


class FieldSkipSerializer(serializers.Serializer):
    field = serializers.CharField()
    reason = NamedChoiceField(
        component="MetadataSkipReason",
        choices=SkipReason.ALL,
        help_text="locked; manual (a person's value); lower_confidence; not_empty (overwrite off); "
        "different_series (the book is in another series).",
    )
    source = correction_source_field()
    confidence = serializers.FloatField()
    value = serializers.JSONField(allow_null=True, help_text="The provider's value, not applied.")


class CorrectionResultSerializer(serializers.Serializer):
    """What a correction of one book found and changed, and the book now."""

    matched = serializers.BooleanField(help_text="Whether any provider record was taken for the book.")
    changed = FieldChangeSerializer(many=True)
    skipped = FieldSkipSerializer(many=True)
    candidates = CandidateSerializer(many=True)
    degraded = serializers.ListField(child=serializers.CharField(), help_text="Providers that failed.")
    from_cache = serializers.ListField(child=serializers.CharField(), help_text="Providers answered from the cache.")
    pushed = serializers.DictField(allow_null=True, help_text="The Audiobookshelf push, when one was made.")
    book = BookDetailSerializer()


def correction_result_data(result: CorrectionResult, context: dict | None = None) -> dict:
    """A correction's result with the book as it is now (one detail read of the book)."""
    body = {
        "matched": result.matched,
        "changed": result.changed,
        "skipped": result.skipped,
        "candidates": result.candidates,
        "degraded": result.degraded,
        "from_cache": result.from_cache,
        "pushed": result.pushed,
        "book": book_selectors.book_get(book_id=result.book.pk),
    }
    return CorrectionResultSerializer(body, context=context or {}).data


# --- lookup ---------------------------------------------------------------------------------------


class LookupQuery(serializers.Serializer):
    isbn = serializers.CharField(required=False, allow_blank=True, max_length=32)
    asin = serializers.CharField(required=False, allow_blank=True, max_length=10)
    title = serializers.CharField(required=False, allow_blank=True, max_length=500)
    author = serializers.CharField(required=False, allow_blank=True, max_length=255)
    providers = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Comma list of providers (default: all enabled)."
    )

    def validate_providers(self, value: str) -> list[str] | None:
        names = [name.strip().lower() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(settings.METADATA_PROVIDER_NAMES))
        if unknown:
            known = ", ".join(settings.METADATA_PROVIDER_NAMES)
            raise serializers.ValidationError(f"Unknown provider(s) {', '.join(unknown)}; known: {known}.")
        return names or None

    def validate(self, attrs):
        if not any((attrs.get(key) or "").strip() for key in ("isbn", "asin", "title")):
            raise serializers.ValidationError("Give an isbn, an asin or a title.", code="required")
        return attrs


class SeriesValueSerializer(serializers.Serializer):
    series = serializers.CharField()
    position = serializers.CharField(allow_null=True, help_text='A label such as "2", "2.5" or "1-3".')


class MergedRecordSerializer(serializers.Serializer):
    """The merged record: every field, null when no accepted record knew it."""

    title = serializers.CharField(allow_null=True)
    subtitle = serializers.CharField(allow_null=True)
    authors = serializers.ListField(child=serializers.CharField(), allow_null=True)
    narrators = serializers.ListField(child=serializers.CharField(), allow_null=True)
    series = SeriesValueSerializer(allow_null=True)
    isbn = serializers.CharField(allow_null=True)
    asin = serializers.CharField(allow_null=True)
    publisher = serializers.CharField(allow_null=True)
    published_year = serializers.IntegerField(allow_null=True)
    published_date = serializers.DateField(allow_null=True)
    language = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    duration_seconds = serializers.IntegerField(allow_null=True)
    abridged = serializers.BooleanField(allow_null=True)


class FieldSourceSerializer(serializers.Serializer):
    source = correction_source_field()
    confidence = serializers.FloatField()
    reason = serializers.CharField()


class LookupResultSerializer(serializers.Serializer):
    query = serializers.DictField(child=serializers.CharField(), help_text="The identifiers and words asked for.")
    record = MergedRecordSerializer()
    sources = serializers.DictField(child=FieldSourceSerializer(), help_text="Field → where its value came from.")
    candidates = CandidateSerializer(many=True)
    degraded = serializers.ListField(child=serializers.CharField())
    from_cache = serializers.ListField(child=serializers.CharField())


def lookup_representation(result) -> dict:
    """``LookupResultSerializer``'s input from a ``LookupResult``."""
    record = dict.fromkeys(MERGE_FIELDS)
    record.update({name: proposal.value for name, proposal in result.merged.items()})
    sources = {
        name: {"source": proposal.source, "confidence": proposal.confidence, "reason": proposal.candidate.reason}
        for name, proposal in result.merged.items()
    }
    return {
        "query": result.query,
        "record": record,
        "sources": sources,
        "candidates": result.candidates,
        "degraded": result.degraded,
        "from_cache": result.from_cache,
    }


# --- figures --------------------------------------------------------------------------------------


class BucketSerializer(serializers.Serializer):
    range = serializers.CharField(help_text='Completeness range, e.g. "80-100".')
    min = serializers.IntegerField()
    max = serializers.IntegerField()
    count = serializers.IntegerField()


class FillRateSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="A completeness field (SPEC §3).")
    filled = serializers.IntegerField(help_text="Active books that fill it.")
    percentage = serializers.FloatField()


class MetadataStatusSerializer(serializers.Serializer):
    active_books = serializers.IntegerField()
    average_completeness = serializers.FloatField(allow_null=True)
    threshold = serializers.IntegerField(help_text="INCOMPLETE_THRESHOLD.")
    below_threshold = serializers.IntegerField(help_text="Active books whose completeness is below the threshold.")
    buckets = BucketSerializer(many=True)
    fill_rates = FillRateSerializer(many=True)


class SourceCountSerializer(serializers.Serializer):
    source = correction_source_field()
    count = serializers.IntegerField()
    reverted = serializers.IntegerField()
    average_confidence = serializers.FloatField()
    fields = serializers.DictField(child=serializers.IntegerField(), help_text="Field → corrections.")


class BySourceQuery(serializers.Serializer):
    days = serializers.IntegerField(required=False, default=30, min_value=1, max_value=MAX_DAYS)


class BySourceSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    total = serializers.IntegerField()
    sources = SourceCountSerializer(many=True)


class ProviderStatusSerializer(serializers.Serializer):
    name = serializers.CharField()
    enabled = serializers.BooleanField()
    configured = serializers.BooleanField()
    base_url = serializers.CharField()
    last_success_at = serializers.DateTimeField(allow_null=True)
    last_failure_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    requests = serializers.IntegerField()
    failures = serializers.IntegerField()
    error_rate = serializers.FloatField(help_text="Failures / requests.")
    cache_entries = serializers.IntegerField()
    circuit = NamedChoiceField(component="ProviderCircuit", choices=["closed", "open", "half_open"])
    opened_until = serializers.DateTimeField(allow_null=True)


class CleanupQuery(serializers.Serializer):
    days = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_DAYS, help_text="Entries fetched longer ago (default: expired)."
    )


class CleanupResultSerializer(serializers.Serializer):
    deleted = serializers.IntegerField(help_text="Provider-cache entries deleted (never correction history).")
    older_than_days = serializers.IntegerField(allow_null=True)
