from django.urls import path

from mamcrawler.system.api import views

urlpatterns = [
    path("stats/", views.StatsView.as_view(), name="system-stats"),
    path("library-status/", views.LibraryStatusView.as_view(), name="system-library-status"),
    path("download-stats/", views.DownloadStatsView.as_view(), name="system-download-stats"),
    path("storage/", views.StorageView.as_view(), name="system-storage"),
    path("configuration/", views.ConfigurationView.as_view(), name="system-configuration"),
    path("integrations/", views.IntegrationsView.as_view(), name="system-integrations"),
    path("mam/", views.MamView.as_view(), name="system-mam"),
    path("logs/", views.LogsView.as_view(), name="system-logs"),
    path("version/", views.VersionView.as_view(), name="system-version"),
]
