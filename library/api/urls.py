from django.urls import path

from library.api.views.authors import AuthorViewSet
from library.api.views.books import BookViewSet
from library.api.views.gaps import GapViewSet
from library.api.views.metadata import MetadataCorrectionViewSet, MetadataViewSet
from library.api.views.series import SeriesViewSet
from library.api.views.transfer import LibraryExportView, LibraryImportView
from mamcrawler.api.routers import DefaultRouter

router = DefaultRouter()
router.register("books", BookViewSet, basename="book")
router.register("series", SeriesViewSet, basename="series")
router.register("authors", AuthorViewSet, basename="author")
router.register("gaps", GapViewSet, basename="gap")
router.register("metadata/corrections", MetadataCorrectionViewSet, basename="metadata-correction")
router.register("metadata", MetadataViewSet, basename="metadata")

urlpatterns = [
    *router.urls,
    path("library/export/", LibraryExportView.as_view(), name="library-export"),
    path("library/import/", LibraryImportView.as_view(), name="library-import"),
]
