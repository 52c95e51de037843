"""Brief nested forms used inside other resources."""

from rest_framework import serializers


class BriefSerializer(serializers.Serializer):
    """``{"id", "name"}`` of an author, narrator or series."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
