"""PLACEHOLDER being replaced by a helper right now."""

from library.models import Series
from mamcrawler.api.viewsets import ReadOnlyModelViewSet


class SeriesViewSet(ReadOnlyModelViewSet):
    queryset = Series.objects.all()
