"""Serializers of the admin API: users, API keys, maintenance answers."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils import timezone
from rest_framework import serializers

from mamcrawler.accounts.choices import Scope
from mamcrawler.accounts.models import ApiKey, User

PASSWORD_STYLE = {"input_type": "password"}


def _validate_password(password: str, user: User) -> None:
    """Django's password validators, reported at ``["body", "password"]``."""
    try:
        password_validation.validate_password(password, user)
    except Exception as error:  # django.core.exceptions.ValidationError
        messages = getattr(error, "messages", [str(error)])
        raise serializers.ValidationError({"password": messages}) from error


class UserSerializer(serializers.ModelSerializer):
    """A user (SPEC §4.1); ``password`` is write-only, required on create, checked by the validators."""

    password = serializers.CharField(
        write_only=True, required=False, style=PASSWORD_STYLE, trim_whitespace=False, max_length=128
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "role",
            "is_active",
            "is_superuser",
            "last_login",
            "date_joined",
            "password",
        ]
        read_only_fields = ["id", "is_superuser", "last_login", "date_joined"]

    def validate(self, attrs):
        password = attrs.get("password")
        if self.instance is None and not password:
            raise serializers.ValidationError({"password": ["This field is required."]})
        if password:
            candidate = User(
                username=attrs.get("username", getattr(self.instance, "username", "")),
                email=attrs.get("email", getattr(self.instance, "email", "")),
            )
            _validate_password(password, candidate)
        return attrs


class PasswordChangeInput(serializers.Serializer):
    """A new password; ``current_password`` is required when changing one's own."""

    password = serializers.CharField(style=PASSWORD_STYLE, trim_whitespace=False, max_length=128)
    current_password = serializers.CharField(
        required=False, style=PASSWORD_STYLE, trim_whitespace=False, help_text="Required for your own password."
    )

    def validate(self, attrs):
        user, actor = self.context["user"], self.context["request"].user
        if user.pk == actor.pk:
            current = attrs.get("current_password")
            if not current:
                raise serializers.ValidationError({"current_password": ["Required to change your own password."]})
            if not user.check_password(current):
                raise serializers.ValidationError({"current_password": ["Wrong password."]})
        _validate_password(attrs["password"], user)
        return attrs


class ApiKeySerializer(serializers.ModelSerializer):
    """An API key as listed: the prefix only, never the secret or its hash."""

    username = serializers.CharField(source="user.username", read_only=True)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices), read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "user",
            "username",
            "prefix",
            "scopes",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
            "is_active",
        ]
        read_only_fields = fields


class ApiKeyCreatedSerializer(ApiKeySerializer):
    """The create answer: the key and, this once, its secret in ``key``."""

    key = serializers.CharField(read_only=True, help_text="The secret; send it as `X-Api-Key`. Shown only now.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices), min_length=1)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, help_text="The owner; the requesting admin by default."
    )

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value


class CacheClearQuery(serializers.Serializer):
    providers = serializers.BooleanField(
        required=False, default=False, help_text="Also delete every cached metadata provider answer."
    )


class CacheClearSerializer(serializers.Serializer):
    cleared = serializers.ListField(
        child=serializers.ChoiceField(choices=["default", "providers"]), help_text="The caches emptied."
    )
    provider_entries_deleted = serializers.IntegerField(
        allow_null=True, help_text="ProviderCache rows deleted; null when providers were kept."
    )
