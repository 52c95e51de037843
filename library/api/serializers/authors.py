"""Author representations (SPEC §4.1) and the small input serializers of the authors API."""

from __future__ import annotations

from rest_framework import serializers

from library.api.serializers.series import (
    MAX_COUNT,
    PROVIDER_FIELDS,
    SeriesCompletionBriefSerializer,
    StatusCountsSerializer,
    percentage_field,
)
from library.choices import CompletionStatus
from library.models import Author


class AuthorSerializer(serializers.ModelSerializer):
    completion_percentage = percentage_field()

    class Meta:
        model = Author
        fields = [
            "id",
            "name",
            "sort_name",
            "monitored",
            "books_owned",
            "books_known",
            "books_missing",
            "completion_percentage",
            "completion_status",
            "last_checked",
            *PROVIDER_FIELDS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AuthorInput(serializers.ModelSerializer):
    """Create or change an author; "Last, First" is accepted and stored as "First Last"."""

    class Meta:
        model = Author
        fields = ["name", "sort_name", "monitored", "books_known", *PROVIDER_FIELDS]
        extra_kwargs = {"books_known": {"max_value": MAX_COUNT}}


class AuthorMergeInput(serializers.Serializer):
    """Merge ``sources`` (duplicates) into ``target``."""

    target = serializers.PrimaryKeyRelatedField(queryset=Author.objects.all())
    sources = serializers.PrimaryKeyRelatedField(many=True, queryset=Author.objects.all(), allow_empty=False)

    def validate(self, attrs):
        if attrs["target"] in attrs["sources"]:
            raise serializers.ValidationError({"sources": ["The target cannot also be a source."]})
        attrs["sources"] = list(dict.fromkeys(attrs["sources"]))
        return attrs


class AuthorMergeResultSerializer(serializers.Serializer):
    target = AuthorSerializer()
    merged = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the deleted sources.")
    books_moved = serializers.IntegerField(help_text="Distinct books that were credited to a source.")
    series_moved = serializers.IntegerField(help_text="Series that now name the target instead of a source.")
    series_merged = serializers.IntegerField(help_text="Source series folded into a same-named target series.")


class FavoritesQuery(serializers.Serializer):
    min_books = serializers.IntegerField(min_value=1, default=2, help_text="Least number of owned books.")


class AuthorCompletionSerializer(serializers.Serializer):
    """``authors/{id}/completion/``: the author's counts and each series' completion."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    books_owned = serializers.IntegerField()
    books_known = serializers.IntegerField(allow_null=True)
    books_missing = serializers.IntegerField()
    completion_percentage = percentage_field()
    completion_status = serializers.ChoiceField(choices=CompletionStatus.choices)
    series_by_status = StatusCountsSerializer()
    series = SeriesCompletionBriefSerializer(many=True)
