"""Brief nested forms used inside other resources."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from library.choices import BookStatus
from library.models import Book
from library.selectors import books as selectors


class BriefSerializer(serializers.Serializer):
    """``{"id", "name"}`` of an author, narrator or series."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


def author_briefs(book: Book) -> list[dict]:
    """``[{"id", "name"}]`` of a book's authors in credit order, read from ``author_links_prefetch()``."""
    return [
        {"id": link.author_id, "name": link.author_name}
        for link in selectors.relation_list(book, selectors.AUTHOR_LINKS)
    ]


class BookSummarySerializer(serializers.ModelSerializer):
    """The brief form of a book: ``{id, title, authors, status}``."""

    # Querysets give it ``.only("id", "title", "status")`` and ``author_links_prefetch()``.

    authors = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=BookStatus.choices, read_only=True)

    class Meta:
        model = Book
        fields = ["id", "title", "authors", "status"]
        read_only_fields = fields

    @extend_schema_field(BriefSerializer(many=True))
    def get_authors(self, book: Book) -> list[dict]:
        return author_briefs(book)
