"""What every ``/api/v1/admin/`` view shares: the admin role (or an ``admin``-scoped key) and tier."""

from mamcrawler.accounts.choices import Role

ADMIN_TAGS = ["admin"]


class AdminAccessMixin:
    """Admin role for every method, and the ``admin`` throttle tier (SPEC §6.2, §6.3)."""

    required_role = Role.ADMIN
    throttle_tier = "admin"
