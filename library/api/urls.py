from library.api.views.authors import AuthorViewSet
from library.api.views.books import BookViewSet
from library.api.views.series import SeriesViewSet
from mamcrawler.api.routers import DefaultRouter

router = DefaultRouter()
router.register("books", BookViewSet, basename="book")
router.register("series", SeriesViewSet, basename="series")
router.register("authors", AuthorViewSet, basename="author")

urlpatterns = router.urls
