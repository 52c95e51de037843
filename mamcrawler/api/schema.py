"""OpenAPI additions: the error body as one component, referenced by every operation."""

from __future__ import annotations

ERROR_COMPONENT = {
    "type": "object",
    "description": "The flat error body every error answers (SPEC §5.1).",
    "properties": {
        "error": {"type": "string", "example": "validation_error"},
        "code": {"type": "string", "example": "VALIDATION_ERROR"},
        "message": {"type": "string"},
        "status_code": {"type": "integer"},
        "detail": {"type": "string", "nullable": True},
        "context": {"type": "object", "nullable": True, "additionalProperties": True},
        "timestamp": {"type": "string", "format": "date-time"},
        "request_id": {"type": "string"},
    },
    "required": ["error", "code", "message", "status_code", "detail", "context", "timestamp", "request_id"],
}

_COMMON = {
    "401": "Not authenticated, or the credentials are invalid or expired.",
    "403": "Authenticated, but the role or the API key's scopes do not allow this.",
    "429": "Too many requests for this endpoint's throttle tier; see `context.retry_after`.",
}
_WRITE = {
    "400": "Malformed request body.",
    "415": "The body's Content-Type is not one this operation accepts.",
    "422": "The request is not valid (`context.validation_errors`).",
}
_DETAIL = {"404": "No such object."}
_OPEN_PATHS = ("/api/v1/auth/token/", "/api/v1/auth/token/refresh/")
_PUBLIC_PREFIXES = ("/health/", "/api/schema/", "/api/docs/", "/api/redoc/")


def _errors_for(path: str, method: str, operation: dict) -> dict[str, str]:
    """Status → description of every error the operation can answer."""
    if path.startswith(_PUBLIC_PREFIXES):
        errors = {"429": _COMMON["429"]}
    else:
        errors = dict(_COMMON)
        if path in _OPEN_PATHS:
            errors.pop("403")
    if method in ("post", "put", "patch"):
        errors.update(_WRITE)
    if "{" in path:
        errors.update(_DETAIL)
        errors.setdefault("422", "A path parameter is not valid (`context.validation_errors`).")
    if any(p.get("in") == "query" for p in operation.get("parameters", [])):
        errors.setdefault("422", "A query parameter is not valid (`context.validation_errors`).")
    # Errors a view documents itself (``OpenApiResponse(description=...)``: 404, 409, 502…).
    for status, response in operation["responses"].items():
        if status[0] in "45":
            errors.setdefault(status, response.get("description", ""))
    return errors


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: document the error body on every operation.

    Every error an operation can answer is listed with the ``Error`` body (the schema fuzz in
    tests/fuzz holds the API to it); a response a view already gave a body keeps it.
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, description in _errors_for(path, method, operation).items():
                existing = responses.get(status)
                if existing is None or "content" not in existing:
                    responses[status] = {
                        "description": (existing or {}).get("description", description),
                        "content": ref,
                    }
    return result
