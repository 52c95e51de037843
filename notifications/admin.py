"""Admin for notification targets (secret never shown, "Send test") and deliveries (read-only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from notifications.choices import SUBSCRIBABLE, TargetKind
from notifications.models import Delivery, Target
from notifications.security import UnsafeUrl, apprise_check, apprise_plugin, host_check, redact_url
from notifications.services import target_test


class TargetForm(forms.ModelForm):
    """The secret is a password box that never renders its value; left blank it keeps the stored one."""

    secret = forms.CharField(
        required=False,
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text="Webhook HMAC secret. Leave blank to keep the current one.",
    )
    clear_secret = forms.BooleanField(required=False, help_text="Remove the webhook secret.")
    events = forms.MultipleChoiceField(
        choices=[(event, event) for event in SUBSCRIBABLE],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means all events.",
    )

    class Meta:
        model = Target
        fields = ["name", "kind", "url", "events", "enabled", "digest"]

    def clean(self):
        cleaned = super().clean()
        url, kind = (cleaned.get("url") or "").strip(), cleaned.get("kind")
        if url and kind:
            try:
                if kind == TargetKind.APPRISE:
                    if apprise_plugin(url) is None:
                        raise UnsafeUrl("Apprise does not understand this URL.")
                    apprise_check(url)
                else:
                    host_check(url)
            except UnsafeUrl as exc:
                self.add_error("url", str(exc))
        return cleaned

    def save(self, commit=True):
        target = super().save(commit=False)
        if self.cleaned_data.get("clear_secret"):
            target.secret = ""
        elif self.cleaned_data.get("secret"):
            target.secret = self.cleaned_data["secret"]
        if commit:
            target.save()
        return target


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    form = TargetForm
    list_display = ("name", "kind", "shown_url", "enabled", "digest", "has_secret", "updated_at")
    list_filter = ("kind", "enabled", "digest")
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at")
    actions = ("send_test",)

    @admin.display(description="URL")
    def shown_url(self, target):
        return redact_url(target.url, kind=target.kind)

    @admin.display(description="secret", boolean=True)
    def has_secret(self, target):
        return bool(target.secret)

    @admin.action(description="Send a test notification")
    def send_test(self, request, queryset):
        for target in queryset:
            delivery = target_test(target=target)
            if delivery.status == "delivered":
                self.message_user(request, f"{target.name}: delivered.", messages.SUCCESS)
            else:
                self.message_user(request, f"{target.name}: failed - {delivery.error}", messages.ERROR)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """What the system sent; read-only (deleting old rows is allowed)."""

    list_display = ("id", "event", "target", "status", "attempts", "response_code", "created_at", "delivered_at")
    list_filter = ("status", "event", "target")
    search_fields = ("error", "target__name")
    list_select_related = ("target",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
