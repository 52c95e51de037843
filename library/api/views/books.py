"""PLACEHOLDER being replaced by a helper right now."""

from library.models import Book
from mamcrawler.api.viewsets import ReadOnlyModelViewSet


class BookViewSet(ReadOnlyModelViewSet):
    queryset = Book.objects.all()
