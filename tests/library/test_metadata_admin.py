"""The metadata admin: corrections are read-only, reverted through the service, conflicts reported."""

import pytest
from django.urls import reverse

from library.models import Book, MetadataCorrection
from library.services.books import book_update
from library.services.metadata import book_correct_metadata
from tests.factories import UserFactory
from tests.library.metadata_fakes import install, record, sparse_book

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:library_metadatacorrection_changelist")


@pytest.fixture
def site(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True, role="admin"))
    return client


@pytest.fixture
def corrected(monkeypatch):
    providers = install(monkeypatch)
    book = sparse_book()
    providers.records = [record(isbn="", asin="")]
    book_correct_metadata(book=book)
    return book


def test_the_revert_action_reverts_and_reports_conflicts(site, corrected):
    publisher = MetadataCorrection.objects.get(field="publisher")
    description = MetadataCorrection.objects.get(field="description")
    book_update(book=Book.objects.get(), fields={"description": "Edited since."})

    response = site.post(
        CHANGELIST, {"action": "revert", "_selected_action": [publisher.pk, description.pk]}, follow=True
    )

    text = response.content.decode()
    assert "Reverted 1 correction(s)." in text
    assert f"Not reverted #{description.pk}" in text
    book = Book.objects.get()
    assert (book.publisher, book.description) == ("", "Edited since.")
    assert MetadataCorrection.objects.get(pk=publisher.pk).reverted_at is not None


def test_corrections_filter_by_reverted_and_search_by_title(site, corrected):
    MetadataCorrection.objects.filter(field="publisher").update(reverted_at=corrected.updated_at)

    reverted = site.get(CHANGELIST, {"reverted": "yes"})
    found = site.get(CHANGELIST, {"q": "way of kings"})
    missing = site.get(CHANGELIST, {"q": "elantris"})

    assert reverted.context["cl"].result_count == 1
    assert found.context["cl"].result_count == MetadataCorrection.objects.count()
    assert missing.context["cl"].result_count == 0


def test_corrections_cannot_be_added_or_edited(site, corrected):
    correction = MetadataCorrection.objects.first()

    assert site.get(reverse("admin:library_metadatacorrection_add")).status_code == 403
    page = site.get(reverse("admin:library_metadatacorrection_change", args=[correction.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
