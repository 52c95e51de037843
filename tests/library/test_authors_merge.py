"""Merging duplicate authors (``POST /api/v1/authors/merge/`` and ``author_merge``)."""

import pytest

from library.models import Author, BookAuthor, Series, SeriesEntry
from library.services.authors import author_merge
from library.services.books import book_create, series_ref
from tests.factories import AuthorFactory, BookFactory, SeriesFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/authors/merge/"


def authors_of(book):
    return [link.author.name for link in BookAuthor.objects.filter(book=book).select_related("author")]


@pytest.fixture
def brandon():
    return AuthorFactory(name="Brandon Sanderson", openlibrary_id="OL1A", monitored=False)


@pytest.fixture
def initials():
    return AuthorFactory(name="B. Sanderson", mam_id="999", hardcover_id="hc-b", monitored=True, books_known=12)


def test_it_merges_a_duplicate_with_a_shared_book_and_a_shared_series(editor_client, brandon, initials):
    cowriter = AuthorFactory(name="Janci Patterson")
    # The target's Mistborn and the duplicate's Mistborn are one series under two names' keys.
    mistborn = SeriesFactory(name="Mistborn", primary_author=brandon, total_known=4)
    mistborn.authors.add(brandon)
    duplicate_mistborn = SeriesFactory(name="mistborn", primary_author=initials, audible_asin="B0SERIES")
    duplicate_mistborn.authors.add(initials)
    skyward = SeriesFactory(name="Skyward", primary_author=initials)
    skyward.authors.add(initials, cowriter)

    # A book credited to both: the duplicate first, so the merged author keeps first place.
    shared = book_create(
        fields={"title": "The Final Empire"},
        authors=[initials, cowriter, brandon],
        series=[series_ref(mistborn, "1")],
    )
    SeriesEntry.objects.create(book=shared, series=duplicate_mistborn, position=1, position_label="1")
    well = book_create(fields={"title": "The Well of Ascension"}, authors=[initials])
    SeriesEntry.objects.create(book=well, series=duplicate_mistborn, position=2, position_label="2")
    starsight = book_create(
        fields={"title": "Starsight"}, authors=[initials, cowriter], series=[series_ref(skyward, "2")]
    )
    own = book_create(fields={"title": "Elantris"}, authors=[brandon])

    response = editor_client.post(URL, {"target": brandon.id, "sources": [initials.id]})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["merged"] == [initials.id]
    assert body["books_moved"] == 3
    assert body["series_moved"] == 1
    assert body["series_merged"] == 1
    assert body["target"]["id"] == brandon.id
    assert body["target"]["books_owned"] == 4
    assert body["target"]["monitored"] is True

    assert not Author.objects.filter(id=initials.id).exists()
    assert authors_of(shared) == ["Brandon Sanderson", "Janci Patterson"]
    assert authors_of(well) == ["Brandon Sanderson"]
    assert authors_of(starsight) == ["Brandon Sanderson", "Janci Patterson"]
    assert authors_of(own) == ["Brandon Sanderson"]

    # The duplicate series folded into the target's, each book in it once.
    assert not Series.objects.filter(id=duplicate_mistborn.id).exists()
    entries = SeriesEntry.objects.filter(series=mistborn).order_by("position")
    assert [(entry.book_id, entry.position_label) for entry in entries] == [(shared.id, "1"), (well.id, "2")]
    mistborn.refresh_from_db()
    assert mistborn.audible_asin == "B0SERIES"
    assert mistborn.books_owned == 2
    assert mistborn.books_missing == 2
    assert set(mistborn.authors.all()) == {brandon, cowriter}

    skyward.refresh_from_db()
    assert skyward.primary_author == brandon
    assert set(skyward.authors.all()) == {brandon, cowriter}


def test_it_fills_empty_provider_ids_and_keeps_the_targets_own(brandon, initials):
    result = author_merge(target=brandon, sources=[initials])
    brandon.refresh_from_db()
    assert brandon.openlibrary_id == "OL1A"
    assert brandon.mam_id == "999"
    assert brandon.hardcover_id == "hc-b"
    assert brandon.books_known == 12
    assert brandon.monitored is True
    assert result.merged == [initials.id]


def test_it_merges_several_sources_with_the_same_series_name(brandon):
    first, second = AuthorFactory(name="B Sanderson"), AuthorFactory(name="Sanderson B.")
    one = SeriesFactory(name="Elantris", primary_author=first)
    two = SeriesFactory(name="Elantris", primary_author=second)
    book_one = book_create(fields={"title": "Elantris"}, authors=[first], series=[series_ref(one, "1")])
    book_two = book_create(fields={"title": "Emperor's Soul"}, authors=[second], series=[series_ref(two, "1.5")])
    both = BookFactory(title="Collected", authors=[first, second])

    result = author_merge(target=brandon, sources=[first, second])

    assert result.series_moved == 1
    assert result.series_merged == 1
    remaining = Series.objects.get(name_key="elantris")
    assert remaining.primary_author == brandon
    assert set(remaining.entries.values_list("book_id", flat=True)) == {book_one.id, book_two.id}
    assert authors_of(both) == ["Brandon Sanderson"]
    assert Author.objects.count() == 1


def test_a_book_already_in_the_target_series_keeps_one_entry(brandon, initials):
    target_series = SeriesFactory(name="Legion", primary_author=brandon)
    source_series = SeriesFactory(name="Legion", primary_author=initials)
    book = BookFactory(authors=[brandon, initials])
    SeriesEntry.objects.create(book=book, series=target_series, position=None, position_label="")
    SeriesEntry.objects.create(book=book, series=source_series, position=2, position_label="2")

    author_merge(target=brandon, sources=[initials])

    entry = SeriesEntry.objects.get(book=book)
    assert entry.series == target_series
    # The target's entry had no position; it takes the one the duplicate knew.
    assert entry.position_label == "2"


def test_the_target_cannot_be_a_source(editor_client, brandon):
    response = editor_client.post(URL, {"target": brandon.id, "sources": [brandon.id]})
    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["body", "sources"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"target": 999999, "sources": ["SOURCE"]}, "target"),
        ({"target": "TARGET", "sources": [999999]}, "sources"),
        ({"target": "TARGET", "sources": []}, "sources"),
        ({"target": "TARGET"}, "sources"),
        ({"sources": ["SOURCE"]}, "target"),
    ],
)
def test_unknown_or_missing_ids_are_validation_errors(editor_client, brandon, initials, payload, field):
    swap = {"TARGET": brandon.id, "SOURCE": initials.id}
    payload = {
        key: [swap.get(v, v) for v in value] if isinstance(value, list) else swap.get(value, value)
        for key, value in payload.items()
    }
    response = editor_client.post(URL, payload)
    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"][:2] == ["body", field]
    assert Author.objects.filter(id=initials.id).exists()


def test_a_failed_merge_changes_nothing(brandon, initials, monkeypatch):
    book = BookFactory(authors=[initials])

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("library.services.authors.author_recalculate_many", explode)
    with pytest.raises(RuntimeError):
        author_merge(target=brandon, sources=[initials])
    assert Author.objects.filter(id=initials.id).exists()
    assert authors_of(book) == ["B. Sanderson"]


def test_merge_moves_gaps_and_drops_duplicate_author_gaps():
    from django.utils import timezone

    from library.models import MissingBook
    from library.services.authors import author_merge
    from tests.factories import AuthorFactory

    target = AuthorFactory(name="Brandon Sanderson")
    source = AuthorFactory(name="B. Sanderson")
    now = timezone.now()
    kept = MissingBook.objects.create(
        title="Elantris", title_key="elantris", reason="author_gap", primary_author=target, last_seen=now
    )
    duplicate = MissingBook.objects.create(
        title="Elantris", title_key="elantris", reason="author_gap", primary_author=source, last_seen=now
    )
    moved = MissingBook.objects.create(
        title="Warbreaker", title_key="warbreaker", reason="author_gap", primary_author=source, last_seen=now
    )
    moved.authors.add(source)

    author_merge(target=target, sources=[source])

    assert set(MissingBook.objects.values_list("id", flat=True)) == {kept.id, moved.id}
    assert not MissingBook.objects.filter(pk=duplicate.pk).exists()
    moved.refresh_from_db()
    assert moved.primary_author == target
    assert list(moved.authors.all()) == [target]
