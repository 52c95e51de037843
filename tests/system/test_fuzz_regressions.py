"""Findings of the schema fuzz (tests/fuzz) in the system API."""

import pytest

from library.models import BookFile
from tests.factories import BookFactory

pytestmark = pytest.mark.django_db

BIGGEST = 2**63 - 1  # what library/import/ accepts for size_bytes


def test_storage_adds_up_sizes_past_64_bits(viewer_client, settings, tmp_path):
    # SQLite's integer SUM raised "integer overflow", a 500.
    settings.LIBRARY_ROOT = str(tmp_path)
    book = BookFactory(format="m4b", size_bytes=BIGGEST)
    BookFactory(format="m4b", size_bytes=BIGGEST)
    BookFile.objects.create(book=book, path="/lib/a/1.m4b", size_bytes=BIGGEST, format="m4b")
    BookFile.objects.create(book=book, path="/lib/a/2.m4b", size_bytes=BIGGEST, format="m4b")
    response = viewer_client.get("/api/v1/system/storage/")
    assert response.status_code == 200
    library = response.json()["library"]
    assert library["books_by_format"]["m4b"]["size_bytes"] >= BIGGEST
    assert library["files_total_bytes"] >= BIGGEST
