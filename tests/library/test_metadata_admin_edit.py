"""A person's edit of a book in the Django admin lands in the book's metadata history."""

import pytest
from django.test import Client

from library.models import MetadataCorrection
from library.services.books import book_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _form_data(response) -> dict:
    """The change form as the browser would post it, main form and inline formsets included."""
    data = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        if isinstance(value, list):
            data[name] = [getattr(item, "pk", item) for item in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for sub in formset.forms:
            for name, field in sub.fields.items():
                value = sub.initial.get(name, field.initial)
                if value is None:
                    continue
                value = getattr(value, "pk", value)
                if isinstance(value, bool):
                    if value:
                        data[f"{sub.prefix}-{name}"] = "on"
                else:
                    data[f"{sub.prefix}-{name}"] = value
    return data


def test_an_admin_edit_writes_a_manual_correction_with_the_user():
    admin = UserFactory(username="root", is_staff=True, is_superuser=True, role="admin")
    book = book_create(fields={"title": "Old Title", "publisher": "Tor"}, authors=["Ann Leckie"])
    client = Client()
    client.force_login(admin)
    url = f"/admin/library/book/{book.pk}/change/"
    data = _form_data(client.get(url))
    data["title"] = "New Title"

    response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    correction = MetadataCorrection.objects.filter(book=book, field="title").latest("id")
    assert (correction.old_value, correction.new_value) == ("Old Title", "New Title")
    assert (correction.source, correction.created_by) == ("manual", admin)
    book.refresh_from_db()
    assert book.metadata_sources["title"]["source"] == "manual"
    # Unchanged fields write nothing: only the creation wrote the authors.
    assert MetadataCorrection.objects.filter(book=book, field="authors").count() == 1
