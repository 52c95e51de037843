"""Which tables a backup holds, and the order they load in.

Included, discovered from the installed apps so new models are picked up without a change
here: every model of ``mamcrawler.accounts`` (users with password hashes, API keys with
secret hashes), ``mamcrawler.audit``, ``library``, ``downloads``, ``scheduler`` and — when it
is installed — ``notifications``; ``auth.Group`` (users' groups); django-q2's ``Schedule``.
Auto-created many-to-many tables are included as tables of their own, so their rows keep
their ids.

Left out, because they are transient or rebuilt by the running instance:
``MamSession`` (holds the ``mam_id`` cookie, a secret configured by env), ``JobLock`` and
``WorkerHeartbeat`` (process state), ``ProviderState`` (circuit breaker counters), the
throttle counters, sessions, simplejwt's token blacklist, django-q2's task queue and
results, the admin's LogEntry, content types and permissions (created by ``migrate``).
``ProviderCache`` only with ``with_cache``.

``JobRun`` history is included: metadata corrections point at the run that made them, and
the history is part of what an admin expects back.  A run that was in progress when the
backup was taken comes back in that state and is marked failed by the stale-run check.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

INCLUDED_APPS = ("accounts", "audit", "library", "downloads", "scheduler", "notifications")
EXTRA_MODELS = ("auth.Group", "django_q.Schedule")
EXCLUDED_MODELS = frozenset(
    {
        "downloads.MamSession",
        "library.ProviderState",
        "scheduler.JobLock",
        "scheduler.WorkerHeartbeat",
    }
)
CACHE_MODELS = frozenset({"library.ProviderCache"})
# Seeded by ``migrate`` (``schedules_sync`` on post_migrate): replaced, not a sign of a used database.
SEEDED_MODELS = frozenset({"django_q.Schedule"})
# Foreign keys to these are written as natural keys: their ids differ between databases.
NATURAL_KEY_MODELS = frozenset({"auth.Permission", "contenttypes.ContentType"})


def _with_through_tables(model_list: list[type[models.Model]]) -> list[type[models.Model]]:
    found = list(model_list)
    for model in model_list:
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if through._meta.auto_created and through not in found:
                found.append(through)
    return found


def included_models(*, with_cache: bool = False) -> list[type[models.Model]]:
    """The models a backup holds, in load order (a model after those its foreign keys point at)."""
    chosen: list[type[models.Model]] = []
    for label in INCLUDED_APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:  # an optional app (notifications, audit) that is not installed
            continue
        for model in config.get_models():
            name = model._meta.label
            if name in EXCLUDED_MODELS or (name in CACHE_MODELS and not with_cache):
                continue
            if model._meta.proxy or not model._meta.managed:
                continue
            chosen.append(model)
    for label in EXTRA_MODELS:
        try:
            chosen.append(apps.get_model(label))
        except LookupError:
            continue
    return dependency_order(_with_through_tables(chosen))


def all_candidate_models() -> list[type[models.Model]]:
    """Every model a backup may hold (``ProviderCache`` too), in load order."""
    return included_models(with_cache=True)


def dependency_order(model_list: list[type[models.Model]]) -> list[type[models.Model]]:
    """``model_list`` sorted so every model comes after the models its foreign keys point at.

    Self-references and cycles are ignored (foreign keys are checked at the end of the
    restore, not per row); ties keep the given order, so the result is deterministic.
    """
    remaining = list(model_list)
    members = set(model_list)
    ordered: list[type[models.Model]] = []
    placed: set[type[models.Model]] = set()

    def dependencies(model):
        return {
            field.related_model
            for field in model._meta.concrete_fields
            if field.is_relation and field.related_model in members and field.related_model is not model
        }

    while remaining:
        ready = [model for model in remaining if dependencies(model) <= placed]
        if not ready:  # a cycle: take the first one, its rows are checked at the end anyway
            ready = [remaining[0]]
        for model in ready:
            ordered.append(model)
            placed.add(model)
            remaining.remove(model)
    return ordered
