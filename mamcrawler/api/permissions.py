"""Role-based permissions (SPEC §6.2).

Reads need ``viewer``, writes need ``editor``; a view or action may raise the bar with
``required_role = "admin"`` (or ``required_roles = {"action": role}``).  An API key's
scopes cap its owner's role: a ``read`` key never writes, even for an admin.
"""

from rest_framework import permissions

from mamcrawler.accounts.choices import ROLE_RANK, Role
from mamcrawler.accounts.models import ApiKey


def effective_role(request) -> str | None:
    """The role the request acts with, or None when it may do nothing."""
    user = request.user
    if not user or not user.is_authenticated:
        return None
    role = user.effective_role
    if isinstance(request.auth, ApiKey):
        cap = request.auth.role_cap
        if cap is None:
            return None
        role = min(role, cap, key=ROLE_RANK.__getitem__)
    return role


def has_role(request, role: str) -> bool:
    current = effective_role(request)
    return current is not None and ROLE_RANK[current] >= ROLE_RANK[role]


def required_role(request, view) -> str:
    """The role ``view`` asks for this request."""
    per_action = getattr(view, "required_roles", {}) or {}
    action = getattr(view, "action", None)
    if action in per_action:
        return per_action[action]
    explicit = getattr(view, "required_role", None)
    if explicit:
        return explicit
    return Role.VIEWER if request.method in permissions.SAFE_METHODS else Role.EDITOR


class RolePermission(permissions.BasePermission):
    """Authenticated, and the effective role is at least the one the view requires."""

    message = "Your role does not allow this action."

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        return has_role(request, required_role(request, view))
