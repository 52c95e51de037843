"""Admin for users (with roles) and API keys (secret shown once, revoke action).

Every change made here is also written to the audit log (``AuditedAdminMixin``).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from mamcrawler.accounts.choices import Scope
from mamcrawler.accounts.models import ApiKey, User
from mamcrawler.accounts.services import api_key_create, api_key_revoke
from mamcrawler.audit.admin_mixins import AuditedAdminMixin


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    audit_resource = "admin/users"
    list_display = ("username", "email", "role", "is_active", "is_superuser", "last_login", "date_joined")
    list_filter = ("role", "is_active", "is_superuser", "is_staff")
    fieldsets = (
        *BaseUserAdmin.fieldsets[:2],
        ("Permissions", {"fields": ("role", "is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        *BaseUserAdmin.fieldsets[3:],
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "role", "usable_password", "password1", "password2"),
            },
        ),
    )


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ("name", "user", "scopes", "expires_at")


@admin.register(ApiKey)
class ApiKeyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The secret exists only in the message shown after adding; ``hashed_key`` is never displayed."""

    audit_resource = "admin/api-keys"

    form = ApiKeyForm
    list_display = ("name", "user", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at", "expires_at", "created_at")
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke_keys",)

    def get_readonly_fields(self, request, obj=None):
        # The owner is chosen once; moving a key to another user would change what it may do.
        return (*self.readonly_fields, "user") if obj else ()

    def get_fields(self, request, obj=None):
        return ("name", "user", "scopes", "expires_at", *(self.readonly_fields if obj else ()))

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key, secret = api_key_create(
            user=obj.user, name=obj.name, scopes=form.cleaned_data["scopes"], expires_at=obj.expires_at
        )
        # The admin goes on with ``obj`` (log entry, redirect): make it the created row.
        obj.__dict__.update({f.attname: getattr(key, f.attname) for f in ApiKey._meta.concrete_fields})
        obj._state.adding = False
        messages.warning(
            request, f"API key {key.prefix}… created. Copy the secret now, it is not shown again: {secret}"
        )

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request, queryset):
        count = 0
        for key in queryset:
            if key.revoked_at is None:
                api_key_revoke(key=key)
                self.audit_admin_action(request, key, "admin_revoke", {"revoked_at": key.revoked_at.isoformat()})
                count += 1
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)
