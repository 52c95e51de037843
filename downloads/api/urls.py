from downloads.api.views import DownloadViewSet
from mamcrawler.api.routers import DefaultRouter

# The API root at /api/v1/ is the library router's; this one adds no second root view.
router = DefaultRouter()
router.include_root_view = False
router.register("downloads", DownloadViewSet, basename="download")

urlpatterns = router.urls
