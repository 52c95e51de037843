"""Model instances from written-out SQL, with the values converted as the ORM converts them.

For the few statements that run on every request (the API-key lookup): building and
compiling a queryset costs more than running it, so those statements are written once per
process and their rows turned into model instances here. ``columns`` names a model's
concrete columns under a table alias; ``instance`` applies the backend's and the fields'
converters (SQLite's text timestamps, JSON columns) and builds the instance with
``Model.from_db``, as a queryset would.
"""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Model


def columns(model: type[Model], alias: str) -> str:
    """``alias."col", …`` for every concrete field of ``model``, in ``instance``'s order."""
    q = connection.ops.quote_name
    return ", ".join(f"{alias}.{q(field.column)}" for field in model._meta.concrete_fields)


def width(model: type[Model]) -> int:
    """How many values ``columns(model, …)`` selects."""
    return len(model._meta.concrete_fields)


def instance(model: type[Model], values) -> Model:
    """A ``model`` instance from the values ``columns(model, …)`` selected, converted."""
    converted = list(values)
    for index, expression, converters in _converters(model, connection.alias):
        value = converted[index]
        for converter in converters:
            value = converter(value, expression, connection)
        converted[index] = value
    return model.from_db(connection.alias, _attnames(model), converted)


@cache
def _attnames(model: type[Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


@cache
def _converters(model: type[Model], alias: str) -> tuple:
    """``(index, column, converters)`` of each field that has converters on database ``alias``.

    Kept per process: a backend's converters read only what every connection to the same
    database shares (its settings and time zone).
    """
    found = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            found.append((index, column, tuple(converters)))
    return tuple(found)
