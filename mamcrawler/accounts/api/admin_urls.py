"""``/api/v1/admin/``: users, API keys, audit log, maintenance."""

from django.urls import path

from mamcrawler.accounts.api import admin_views
from mamcrawler.accounts.api.admin_access import AdminAccessMixin
from mamcrawler.api.routers import APIRootView, DefaultRouter
from mamcrawler.audit.api.views import AuditLogViewSet


class AdminRootView(AdminAccessMixin, APIRootView):
    """The list of admin resources, for admins only."""


class AdminRouter(DefaultRouter):
    APIRootView = AdminRootView


router = AdminRouter()
router.register("users", admin_views.UserViewSet, basename="admin-user")
router.register("api-keys", admin_views.ApiKeyViewSet, basename="admin-api-key")
router.register("audit-logs", AuditLogViewSet, basename="admin-audit-log")

urlpatterns = [
    path("maintenance/cleanup/", admin_views.MaintenanceCleanupView.as_view(), name="admin-maintenance-cleanup"),
    path("cache/clear/", admin_views.CacheClearView.as_view(), name="admin-cache-clear"),
    *router.urls,
]
