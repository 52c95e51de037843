from django.urls import path

from mamcrawler.system.health import views

urlpatterns = [
    path("", views.HealthView.as_view(), name="health"),
    path("live/", views.LiveView.as_view(), name="health-live"),
    path("ready/", views.ReadyView.as_view(), name="health-ready"),
    path("deep/", views.DeepView.as_view(), name="health-deep"),
]
