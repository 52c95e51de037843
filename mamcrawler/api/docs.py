"""Schema and documentation views, open to everyone and counted in the ``public`` tier."""

from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from mamcrawler.api.throttling import TieredThrottleMixin


class SchemaView(TieredThrottleMixin, SpectacularAPIView):
    throttle_tier = "public"


class SwaggerView(TieredThrottleMixin, SpectacularSwaggerView):
    throttle_tier = "public"


class RedocView(TieredThrottleMixin, SpectacularRedocView):
    throttle_tier = "public"
