"""A run's ``status`` as one named enum component in the OpenAPI schema.

drf-spectacular names enums after their field: several choice sets all called ``status``
(books, runs) would collide and warn.  ``RunStatusField`` points at its own component,
``JobRunStatus``, so the names never clash.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent, build_choice_field
from rest_framework import serializers

from scheduler.choices import RunStatus

COMPONENT = "JobRunStatus"


class RunStatusField(serializers.ChoiceField):
    """A JobRun's status (read-only)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(choices=RunStatus.choices, **kwargs)


class RunStatusFieldExtension(OpenApiSerializerFieldExtension):
    target_class = RunStatusField

    def map_serializer_field(self, auto_schema, direction):
        schema = build_choice_field(self.target)
        schema.pop("x-spec-enum-id", None)
        component = ResolvedComponent(name=COMPONENT, type=ResolvedComponent.SCHEMA, object=COMPONENT, schema=schema)
        auto_schema.registry.register_on_missing(component)
        return component.ref
