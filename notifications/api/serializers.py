"""Target and Delivery representations (SPEC §10.1).

A target's ``secret`` is write-only (``has_secret`` says whether one is set) and an Apprise
URL is shown with its tokens and passwords masked.  Sending a masked URL back unchanged
keeps the stored one, so a form that round-trips the representation loses nothing.
"""

from __future__ import annotations

from rest_framework import serializers

from library.api.serializers.gaps import NamedChoiceField
from notifications.choices import SUBSCRIBABLE, DeliveryStatus, Event, TargetKind
from notifications.models import Delivery, Target
from notifications.security import UnsafeUrl, apprise_check, apprise_plugin, host_check, redact_url


class TargetSerializer(serializers.ModelSerializer):
    """A notification target."""

    kind = NamedChoiceField(component="TargetKind", choices=TargetKind.choices)
    url = serializers.CharField(
        max_length=2000,
        help_text="Webhook: an http(s) URL. Apprise: any Apprise URL; shown with tokens and passwords masked.",
    )
    events = serializers.ListField(
        child=NamedChoiceField(component="SubscribableEvent", choices=SUBSCRIBABLE),
        required=False,
        max_length=len(SUBSCRIBABLE),
        help_text="Subscribed events; empty means all.",
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        trim_whitespace=False,
        help_text="Webhook HMAC-SHA256 secret (write-only; blank removes it).",
    )
    has_secret = serializers.SerializerMethodField(help_text="Whether a webhook secret is set.")

    class Meta:
        model = Target
        fields = [
            "id",
            "name",
            "kind",
            "url",
            "events",
            "secret",
            "has_secret",
            "enabled",
            "digest",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_has_secret(self, target: Target) -> bool:
        return bool(target.secret)

    def to_representation(self, target: Target) -> dict:
        data = super().to_representation(target)
        data["url"] = redact_url(target.url, kind=target.kind)
        return data

    def validate_events(self, events: list[str]) -> list[str]:
        return list(dict.fromkeys(events))  # each once, in the order given

    def validate(self, attrs: dict) -> dict:
        instance = self.instance
        kind = attrs.get("kind", getattr(instance, "kind", None))
        url = attrs.get("url")
        masked = instance is not None and instance.kind == kind and url != instance.url
        if masked and url == redact_url(instance.url, kind=instance.kind):
            attrs.pop("url")  # the masked form sent back: keep what is stored
            url = None
        if url is None and instance is not None and "kind" in attrs and kind != instance.kind:
            url = instance.url  # the stored URL must suit the new kind
        if url is not None:
            url = url.strip()
            try:
                if kind == TargetKind.APPRISE:
                    if apprise_plugin(url) is None:
                        raise UnsafeUrl("Apprise does not understand this URL.")
                    apprise_check(url)
                else:
                    host_check(url)
            except UnsafeUrl as exc:
                raise serializers.ValidationError({"url": [str(exc)]}) from exc
            if "url" in attrs:
                attrs["url"] = url
        return attrs


class DeliverySerializer(serializers.ModelSerializer):
    """One message to one target and the outcome of its last attempt."""

    event = NamedChoiceField(component="NotificationEvent", choices=Event.choices, read_only=True)
    status = NamedChoiceField(component="DeliveryStatus", choices=DeliveryStatus.choices, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "target",
            "event",
            "status",
            "attempts",
            "response_code",
            "error",
            "next_attempt_at",
            "job_run_id",
            "digest",
            "payload",
            "created_at",
            "delivered_at",
        ]
        read_only_fields = fields
