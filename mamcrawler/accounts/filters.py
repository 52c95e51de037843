"""Query filters and ordering allow-lists of the admin API's users and API keys."""

from __future__ import annotations

from django_filters import rest_framework as filters

from mamcrawler.accounts.choices import Role
from mamcrawler.accounts.models import ApiKey, User
from mamcrawler.api.filters import IntegerFilter, StableOrderingFilter


class UserFilterSet(filters.FilterSet):
    role = filters.MultipleChoiceFilter(choices=Role.choices)
    is_active = filters.BooleanFilter()
    ordering = StableOrderingFilter(
        fields=(
            ("username", "username"),
            ("email", "email"),
            ("role", "role"),
            ("date_joined", "date_joined"),
            ("last_login", "last_login"),
        ),
    )

    class Meta:
        model = User
        fields = ["role", "is_active"]


class ApiKeyFilterSet(filters.FilterSet):
    user = IntegerFilter(field_name="user_id", label="Owner's user id")
    revoked = filters.BooleanFilter(field_name="revoked_at", lookup_expr="isnull", exclude=True, label="Revoked")
    ordering = StableOrderingFilter(
        fields=(("created_at", "created_at"), ("last_used_at", "last_used_at"), ("name", "name")),
    )

    class Meta:
        model = ApiKey
        fields = ["user", "revoked"]
