from django.urls import path

from mamcrawler.api.routers import DefaultRouter
from scheduler.api import views

router = DefaultRouter()
router.register("jobs", views.JobViewSet, basename="scheduler-job")
router.register("runs", views.JobRunViewSet, basename="scheduler-run")

urlpatterns = [
    path("status/", views.StatusView.as_view(), name="scheduler-status"),
    path("upcoming/", views.UpcomingView.as_view(), name="scheduler-upcoming"),
    path("run-all/", views.RunAllView.as_view(), name="scheduler-run-all"),
    path("configuration/", views.ConfigurationView.as_view(), name="scheduler-configuration"),
    *router.urls,
]
