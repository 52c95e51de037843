from mamcrawler.api.routers import DefaultRouter
from notifications.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("targets", views.TargetViewSet, basename="notification-target")
router.register("deliveries", views.DeliveryViewSet, basename="notification-delivery")

urlpatterns = router.urls
