"""PLACEHOLDER being replaced by a helper right now."""

from library.models import Author
from mamcrawler.api.viewsets import ReadOnlyModelViewSet


class AuthorViewSet(ReadOnlyModelViewSet):
    queryset = Author.objects.all()
