"""Series representations (SPEC §4.1) and the small input serializers of the series API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from library.api.serializers.nested import BookSummarySerializer, BriefSerializer
from library.choices import CompletionStatus
from library.models import Author, Book, Series
from library.positions import format_position

# PositiveIntegerField's range on PostgreSQL. SQLite would store up to 2**63 - 1, and the
# summaries' SUM over such counts overflowed (a 500); both databases now take the same values.
MAX_COUNT = 2_147_483_647

PROVIDER_FIELDS = ["openlibrary_id", "hardcover_id", "google_id", "audible_asin", "mam_id"]


def percentage_field() -> serializers.DecimalField:
    """Completion as a JSON number (DRF renders decimals as strings by default)."""
    return serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True
    )


class SeriesSerializer(serializers.ModelSerializer):
    """A series; ``authors`` lists the primary author first."""

    authors = serializers.SerializerMethodField()
    completion_percentage = percentage_field()

    class Meta:
        model = Series
        fields = [
            "id",
            "name",
            "authors",
            "monitored",
            "total_known",
            "books_owned",
            "books_missing",
            "completion_percentage",
            "completion_status",
            "last_checked",
            *PROVIDER_FIELDS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(BriefSerializer(many=True))
    def get_authors(self, series: Series) -> list[dict]:
        people = list(series.authors.all())
        primary = series.primary_author
        if primary is not None:
            people = [primary, *(person for person in people if person.pk != primary.pk)]
        return [{"id": person.id, "name": person.name} for person in people]


class SeriesInput(serializers.ModelSerializer):
    """Create or change a series: ``authors`` are author ids, the first one is primary."""

    authors = serializers.PrimaryKeyRelatedField(many=True, queryset=Author.objects.all(), required=False)

    class Meta:
        model = Series
        fields = ["name", "authors", "total_known", "monitored", *PROVIDER_FIELDS]
        extra_kwargs = {"total_known": {"max_value": MAX_COUNT}}


class SeriesBookSerializer(BookSummarySerializer):
    """A book of ``series/{id}/books/`` with its place in that series."""

    position = serializers.SerializerMethodField(help_text='Decimal string such as "2.5", or null.')
    position_label = serializers.CharField(source="series_position_label", read_only=True)

    class Meta(BookSummarySerializer.Meta):
        fields = [*BookSummarySerializer.Meta.fields, "position", "position_label"]
        read_only_fields = fields

    def get_position(self, book: Book) -> str | None:
        return format_position(book.series_position)


class StatusCountsSerializer(serializers.Serializer):
    complete = serializers.IntegerField()
    partial = serializers.IntegerField()
    incomplete = serializers.IntegerField()
    unknown = serializers.IntegerField()


class SeriesCompletionBriefSerializer(serializers.ModelSerializer):
    completion_percentage = percentage_field()

    class Meta:
        model = Series
        fields = [
            "id",
            "name",
            "total_known",
            "books_owned",
            "books_missing",
            "completion_percentage",
            "completion_status",
        ]
        read_only_fields = fields


class SeriesCompletionSerializer(serializers.Serializer):
    """``series/{id}/completion/``: counts plus the owned, missing and fractional positions."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    total_known = serializers.IntegerField(allow_null=True)
    books_owned = serializers.IntegerField()
    books_missing = serializers.IntegerField()
    completion_percentage = percentage_field()
    completion_status = serializers.ChoiceField(choices=CompletionStatus.choices)
    owned_positions = serializers.ListField(
        child=serializers.IntegerField(), help_text="Whole positions owned (an omnibus 3-4 owns 3 and 4)."
    )
    missing_positions = serializers.ListField(
        child=serializers.IntegerField(), help_text="1..total_known not owned; empty when the total is unknown."
    )
    fractional_positions = serializers.ListField(
        child=serializers.CharField(), help_text='Owned in-between positions such as "2.5".'
    )


class CompletionSummarySerializer(serializers.Serializer):
    """Counts per completion status and library-wide totals."""

    total = serializers.IntegerField()
    monitored = serializers.IntegerField()
    by_status = StatusCountsSerializer()
    average_completion = serializers.FloatField(
        allow_null=True, help_text="Mean completion percentage over those whose total is known."
    )
    total_missing = serializers.IntegerField()
    total_owned = serializers.IntegerField()
