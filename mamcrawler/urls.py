"""Top-level URL configuration."""

from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path, re_path

from mamcrawler.api.docs import RedocView, SchemaView, SwaggerView
from mamcrawler.api.login_guard import guard_login
from mamcrawler.api.views import api_not_found
from mamcrawler.backup.api import BackupView
from mamcrawler.system.dashboard import dashboard_index

handler404 = "mamcrawler.api.views.handler404"
handler500 = "mamcrawler.api.views.handler500"

admin.site.login = guard_login(admin.site.login)
admin.site.index = dashboard_index(admin.site.index)

api_v1 = [
    path("auth/", include("mamcrawler.accounts.api.urls")),
    path("scheduler/", include("scheduler.api.urls")),
    path("system/", include("mamcrawler.system.api.urls")),
    path("admin/maintenance/backup/", BackupView.as_view(), name="admin-maintenance-backup"),
    path("admin/", include("mamcrawler.accounts.api.admin_urls")),
    path("notifications/", include("notifications.api.urls")),
    path("", include("library.api.urls")),
    path("", include("downloads.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("health/", include("mamcrawler.system.health.urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    # The browsable API's login, guarded like the admin's.
    path(
        "api-auth/login/",
        guard_login(LoginView.as_view(template_name="rest_framework/login.html")),
        name="rest_framework_login",
    ),
    path("api-auth/", include("rest_framework.urls")),
    re_path(r"^api/", api_not_found),
]
