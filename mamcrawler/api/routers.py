"""The project router: its browsable root view is throttled like every other view."""

from rest_framework import routers

from mamcrawler.api.throttling import TieredThrottleMixin


class APIRootView(TieredThrottleMixin, routers.APIRootView):
    """The list of resources at ``/api/v1/``."""


class DefaultRouter(routers.DefaultRouter):
    APIRootView = APIRootView
