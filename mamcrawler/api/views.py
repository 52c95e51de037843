"""Project-level views: JSON 404/500 for ``/api/`` paths."""

from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found, server_error

from mamcrawler.api.exception_handlers import json_error_response


# Exempt: it changes nothing, and a CSRF rejection here answered an HTML 403 instead of the 404 body.
@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Unknown routes under ``/api/`` answer the JSON error body, not an HTML page."""
    return json_error_response(request, 404, detail=f"No endpoint at {request.path}.")


def handler404(request, exception=None):
    if request.path.startswith(("/api/", "/health/")):
        return api_not_found(request)
    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith(("/api/", "/health/")):
        return json_error_response(request, 500)
    return server_error(request)
