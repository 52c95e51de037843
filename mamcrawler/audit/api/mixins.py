"""The one hook that records every successful API write (SPEC §3 AuditLog).

``BaseViewSet`` and every ``APIView`` with write methods mix in ``AuditedViewMixin``; the
entry is written in ``finalize_response`` when the answer is 2xx.
"""

from __future__ import annotations

import logging
import re

from mamcrawler.audit.services import audit_record, request_details

logger = logging.getLogger("mamcrawler.audit")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = re.compile(r"^\^?api/v\d+/")
STANDARD_ACTIONS = frozenset({"list", "retrieve", "create", "update", "partial_update", "destroy"})


class AuditedViewMixin:
    """Writes one AuditLog for each successful POST/PUT/PATCH/DELETE.

    ``audit_action`` and ``audit_object_type`` override what is derived; ``audit_enabled = False``
    opts a view out.
    Otherwise the action is ``<resource>.<view action>`` where the resource is the URL path
    (``books``, ``metadata/corrections``); an APIView's action is the last path segment
    (``library.import``, ``admin/cache.clear``).
    """

    audit_enabled = True
    audit_action: str | None = None
    audit_object_type: str | None = None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.audit_enabled and request.method in WRITE_METHODS and 200 <= response.status_code < 300:
            try:
                self.audit_write(request, response)
            except Exception:  # the write already happened: never turn it into an error
                logger.exception("Could not record the audit entry of %s %s", request.method, request.path)
        return response

    def audit_write(self, request, response) -> None:
        details = request_details(request)
        if request.method == "DELETE":
            # Deleting one's own user or the key in use: the entry cannot point at the gone row.
            for name in ("user", "api_key"):
                principal = details[name]
                if (
                    getattr(principal, "pk", None)
                    and not type(principal)._default_manager.filter(pk=principal.pk).exists()
                ):
                    details[name] = None
        audit_record(
            action=self.get_audit_action(request),
            object_type=self.get_audit_object_type(),
            object_id=self.get_audit_object_id(response),
            changes=self.get_audit_changes(request),
            **details,
        )

    def _route_segments(self, request) -> list[str]:
        match = getattr(request, "resolver_match", None)
        route = API_PREFIX.sub("", getattr(match, "route", "") or "")
        segments = []
        for segment in route.strip("^$").split("/"):
            if not segment or segment == "$":
                continue
            if "(" in segment or "<" in segment:
                break
            segments.append(segment)
        return segments

    def get_audit_action(self, request) -> str:
        if self.audit_action:
            return self.audit_action
        segments = self._route_segments(request)
        view_action = getattr(self, "action", None)
        if view_action:
            handler = getattr(self, view_action, None)
            url_path = getattr(handler, "url_path", None)
            if view_action not in STANDARD_ACTIONS and segments and segments[-1] == url_path:
                segments = segments[:-1]  # a list-level @action: its url_path is not the resource
            resource = "/".join(segments) or getattr(self, "basename", None) or type(self).__name__
            return f"{resource}.{view_action}"
        if len(segments) > 1:
            return f"{'/'.join(segments[:-1])}.{segments[-1]}"
        resource = segments[0] if segments else type(self).__name__
        return f"{resource}.{request.method.lower()}"

    def get_audit_object_type(self) -> str:
        if self.audit_object_type:
            return self.audit_object_type
        queryset = getattr(self, "queryset", None)
        model = getattr(queryset, "model", None)
        if model is not None:
            return model._meta.label_lower
        return getattr(self, "basename", None) or ""

    def get_audit_object_id(self, response) -> str:
        lookup = getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", None) or "pk"
        kwargs = getattr(self, "kwargs", None) or {}
        for name in (lookup, "pk", "id"):
            if kwargs.get(name) not in (None, ""):
                return str(kwargs[name])
        data = getattr(response, "data", None)
        if isinstance(data, dict) and data.get("id") is not None:
            return str(data["id"])
        return ""

    def get_audit_changes(self, request):
        try:
            data = request.data
        except Exception:  # a body the view never read and that does not parse
            return None
        if not data:
            return None
        return data
