"""The one DRF exception handler: every error becomes the flat body of SPEC §5.1."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import ExpiredTokenError, InvalidToken

from mamcrawler.api.exceptions import AppError, Conflict, QueryValidationError
from mamcrawler.api.request_id import request_id_for

logger = logging.getLogger("mamcrawler.api")

_CODES = {
    status.HTTP_400_BAD_REQUEST: ("malformed_request", "The request could not be parsed."),
    status.HTTP_401_UNAUTHORIZED: ("unauthorized", "Authentication is required."),
    status.HTTP_403_FORBIDDEN: ("forbidden", "You do not have permission to do this."),
    status.HTTP_404_NOT_FOUND: ("not_found", "Not found."),
    status.HTTP_405_METHOD_NOT_ALLOWED: ("method_not_allowed", "Method not allowed."),
    status.HTTP_406_NOT_ACCEPTABLE: ("not_acceptable", "The requested format is not available."),
    status.HTTP_409_CONFLICT: ("conflict", "The request conflicts with the current state."),
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: ("unsupported_media_type", "Unsupported media type."),
    status.HTTP_422_UNPROCESSABLE_ENTITY: ("validation_error", "The request is not valid."),
    status.HTTP_429_TOO_MANY_REQUESTS: ("rate_limit_exceeded", "Too many requests."),
    status.HTTP_500_INTERNAL_SERVER_ERROR: ("internal_error", "Internal server error."),
    status.HTTP_503_SERVICE_UNAVAILABLE: ("service_unavailable", "Service unavailable."),
}


def error_body(
    *,
    status_code: int,
    error: str | None = None,
    message: str | None = None,
    detail: str | None = None,
    context: dict | None = None,
    request_id: str,
) -> dict:
    default_error, default_message = _CODES.get(status_code, ("error", "Error."))
    error = error or default_error
    return {
        "error": error,
        "code": error.upper(),
        "message": message or default_message,
        "status_code": status_code,
        "detail": detail,
        "context": context or None,
        "timestamp": timezone.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "request_id": request_id,
    }


def _flatten(errors, loc: list) -> list[dict]:
    """Turn DRF's nested ``detail`` into ``[{loc, msg, type}]`` entries."""
    if isinstance(errors, dict):
        items = []
        for key, value in errors.items():
            sub = loc if key in ("non_field_errors", "__all__") else [*loc, key]
            items.extend(_flatten(value, sub))
        return items
    if isinstance(errors, list):
        if all(isinstance(item, (str, exceptions.ErrorDetail)) for item in errors):
            return [_entry(loc, item) for item in errors]
        items = []
        for index, value in enumerate(errors):
            items.extend(_flatten(value, [*loc, index]))
        return items
    return [_entry(loc, errors)]


def _entry(loc, message) -> dict:
    return {"loc": loc, "msg": str(message), "type": getattr(message, "code", None) or "invalid"}


def _validation_body(exc: exceptions.ValidationError, request_id: str) -> dict:
    location = getattr(exc, "location", "body")
    entries = _flatten(exc.detail, [location])
    return error_body(
        status_code=422,
        message="The request is not valid.",
        detail="; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in entries[:5]),
        context={"validation_errors": entries, "error_count": len(entries)},
        request_id=request_id,
    )


def _as_drf(exc):
    """Map Django's own exceptions onto DRF ones."""
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) if str(exc) else None)
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return exceptions.ValidationError(detail)
    if isinstance(exc, (ProtectedError, RestrictedError)):
        return Conflict("The object is still referenced by other objects.")
    if isinstance(exc, SuspiciousOperation):
        # Django refuses bodies over DATA_UPLOAD_MAX_NUMBER_FIELDS/_FILES or _MEMORY_SIZE while parsing.
        return exceptions.ParseError("The request body is too large or has too many fields or files.")
    return exc


def api_exception_handler(exc, context):
    """DRF ``EXCEPTION_HANDLER``: the flat error body for every exception."""
    request = context.get("request")
    request_id = request_id_for(request) if request is not None else "-"
    exc = _as_drf(exc)
    headers = {}

    if isinstance(exc, (exceptions.ValidationError, QueryValidationError)):
        return Response(_validation_body(exc, request_id), status=422)
    if isinstance(exc, AppError):
        if exc.context and "retry_after" in exc.context:
            headers["Retry-After"] = str(exc.context["retry_after"])
        body = error_body(
            status_code=exc.status_code,
            error=exc.error,
            message=exc.message,
            detail=exc.detail_text,
            context=exc.context,
            request_id=request_id,
        )
    elif isinstance(exc, InvalidToken):
        expired = _token_expired(exc)
        body = error_body(
            status_code=401,
            error="token_expired" if expired else "invalid_token",
            message="The token has expired." if expired else "The token is invalid.",
            request_id=request_id,
        )
    elif isinstance(exc, exceptions.ParseError):
        body = error_body(status_code=400, detail=str(exc.detail), request_id=request_id)
    elif isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        headers["Retry-After"] = str(wait)
        body = error_body(
            status_code=429,
            detail=f"Try again in {wait} seconds.",
            context={"retry_after": wait},
            request_id=request_id,
        )
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail if isinstance(exc.detail, str) else None
        body = error_body(status_code=exc.status_code, detail=detail, request_id=request_id)
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            body["error"], body["code"] = "unauthorized", "UNAUTHORIZED"
    else:
        logger.exception("Unhandled error while serving %s", getattr(request, "path", "?"))
        context_info = {"exception_type": type(exc).__name__} if settings.DEBUG else None
        body = error_body(status_code=500, context=context_info, request_id=request_id)
    if body["status_code"] == 401 and getattr(exc, "auth_header", None):
        # Every 401 names a scheme (RFC 9110), invalid JWTs included.
        headers["WWW-Authenticate"] = exc.auth_header
    response = Response(body, status=body["status_code"], headers=headers)
    return response


def _token_expired(exc: InvalidToken) -> bool:
    """Whether simplejwt rejected the token for its age (not its signature, type or blacklist)."""
    if isinstance(exc.__cause__, ExpiredTokenError):
        return True
    detail = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
    messages = [detail.get("detail"), *(m.get("message") for m in detail.get("messages", []))]
    # simplejwt's wording; its default "Token is invalid or expired" says nothing either way.
    return any(str(m) == "Token is expired" or str(m).endswith("claim has expired") for m in messages if m)


def json_error_response(request, status_code: int, **kwargs) -> JsonResponse:
    """An error body outside DRF (Django's 404/500 handlers for ``/api/``)."""
    body = error_body(status_code=status_code, request_id=request_id_for(request), **kwargs)
    return JsonResponse(body, status=status_code)
