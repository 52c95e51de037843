"""Application errors: one base class, nine kinds (SPEC §5.1).

Services raise these; the exception handler turns them into the flat error body.
"""

from __future__ import annotations

from rest_framework import exceptions, status


class AppError(exceptions.APIException):
    """Base of every error the application raises on purpose."""

    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    error = "internal_error"
    default_message = "Internal server error."

    def __init__(self, detail: str | None = None, *, message: str | None = None, context: dict | None = None):
        self.message = message or self.default_message
        self.detail_text = detail
        self.context = context or None
        super().__init__(detail or self.message)


class AppValidationError(AppError):
    status_code = status.HTTP_400_BAD_REQUEST
    error = "validation_error"
    default_message = "The request breaks a rule."


class Unauthorized(AppError):
    status_code = status.HTTP_401_UNAUTHORIZED
    error = "unauthorized"
    default_message = "Authentication is required."


class Forbidden(AppError):
    status_code = status.HTTP_403_FORBIDDEN
    error = "forbidden"
    default_message = "You do not have permission to do this."


class NotFound(AppError):
    status_code = status.HTTP_404_NOT_FOUND
    error = "not_found"
    default_message = "Not found."


class Conflict(AppError):
    status_code = status.HTTP_409_CONFLICT
    error = "conflict"
    default_message = "The request conflicts with the current state."


class RateLimited(AppError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    error = "rate_limit_exceeded"
    default_message = "Too many requests."

    def __init__(self, detail: str | None = None, *, retry_after: int, **kwargs):
        context = {"retry_after": int(retry_after), **(kwargs.pop("context", None) or {})}
        super().__init__(detail, context=context, **kwargs)


class Internal(AppError):
    pass


class DatabaseError(AppError):
    error = "database_error"
    default_message = "A database error occurred."


class ExternalApiError(AppError):
    status_code = status.HTTP_502_BAD_GATEWAY
    error = "external_api_error"
    default_message = "An external service failed."

    def __init__(self, detail: str | None = None, *, service: str, retryable: bool = True, **kwargs):
        self.service = service
        self.retryable = retryable
        super().__init__(detail or f"{service} failed.", **kwargs)


class QueryValidationError(exceptions.ValidationError):
    """A ``ValidationError`` about query parameters (``loc`` starts with ``query``)."""

    location = "query"


class PathValidationError(exceptions.ValidationError):
    """A ``ValidationError`` about a path parameter (``loc`` starts with ``path``)."""

    location = "path"
