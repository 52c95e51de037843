"""Find-or-create for authors, narrators and series by name (normalised, case-insensitive)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from library import naming
from library.models import Author, Narrator, Series


def _get_or_create(model, key: str, defaults: dict, **lookup):
    """``get_or_create`` that survives a concurrent insert of the same key."""
    try:
        with transaction.atomic():
            return model.objects.get_or_create(name_key=key, **lookup, defaults=defaults)[0]
    except IntegrityError:
        return model.objects.get(name_key=key, **lookup)


def _person_get_or_create(model, name: str, noun: str):
    """The ``model`` person called ``name`` ("Last, First" accepted), created when unknown."""
    display = naming.person_name(name)
    if not display:
        raise ValueError(f"{noun} needs a name.")
    return _get_or_create(model, naming.name_key(display), {"name": display})


def author_get_or_create(*, name: str) -> Author:
    """The author called ``name`` ("Last, First" accepted), created when unknown."""
    return _person_get_or_create(Author, name, "An author")


def narrator_get_or_create(*, name: str) -> Narrator:
    """The narrator called ``name``, created when unknown."""
    return _person_get_or_create(Narrator, name, "A narrator")


def series_get_or_create(*, name: str, author: Author | None = None) -> Series:
    """The series ``name`` of ``author`` (an author-less series of that name is reused)."""
    display = naming.clean(name)
    if not display:
        raise ValueError("A series needs a name.")
    key = naming.name_key(display)
    if author is not None:
        existing = Series.objects.filter(name_key=key, primary_author=author).first()
        if existing is None:
            existing = Series.objects.filter(name_key=key, primary_author__isnull=True).first()
        if existing is not None:
            return existing
        return _get_or_create(Series, key, {"name": display}, primary_author=author)
    existing = Series.objects.filter(name_key=key).order_by("id").first()
    return existing or _get_or_create(Series, key, {"name": display}, primary_author=None)
