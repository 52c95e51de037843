"""``/api/v1/books/`` actions: search, incomplete, duplicates, stats, bulk, lock and unlock."""

from datetime import timedelta

import pytest
from django.utils import timezone

from library.choices import BookStatus
from library.models import Book
from tests.factories import AuthorFactory, BookFactory, NarratorFactory, SeriesEntryFactory, SeriesFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/books/"


def error_locs(response):
    assert response.status_code == 422, response.content
    assert response.json()["error"] == "validation_error"
    return [entry["loc"] for entry in response.json()["context"]["validation_errors"]]


def set_completeness(book, value):
    Book.objects.filter(pk=book.pk).update(metadata_completeness=value)


def complete_book(title="Complete", **kwargs):
    """A book that fills every completeness field."""
    book = BookFactory(
        title=title,
        isbn="9780000000001",
        publisher="House",
        published_year=2001,
        duration_seconds=3600,
        description="About it.",
        authors=[AuthorFactory()],
        narrators=[NarratorFactory()],
        **kwargs,
    )
    SeriesEntryFactory(book=book, position=1, position_label="1")
    book.save()
    return book


# --- search/ ---------------------------------------------------------------------------------


def test_search_needs_q(viewer_client):
    assert error_locs(viewer_client.get(URL + "search/")) == [["query", "q"]]
    assert error_locs(viewer_client.get(URL + "search/", {"q": ""})) == [["query", "q"]]


def test_search_ranks_titles_starting_with_the_words_first(viewer_client):
    BookFactory(title="A Dragon Tale")
    BookFactory(title="Aardvarks", authors=[AuthorFactory(name="Dragon Writer")])
    BookFactory(title="Dragonflight")
    BookFactory(title="Unrelated")

    body = viewer_client.get(URL + "search/", {"q": "dragon"}).json()

    assert body["count"] == 3
    assert [b["title"] for b in body["results"]] == ["Dragonflight", "A Dragon Tale", "Aardvarks"]


def test_search_matches_like_the_search_parameter(viewer_client):
    book = BookFactory(title="Guards! Guards!", narrators=[NarratorFactory(name="Nigel Planer")])
    SeriesEntryFactory(book=book, series=SeriesFactory(name="Discworld"))
    BookFactory(title="Other", asin="B00DISCWLD")

    by_action = [b["title"] for b in viewer_client.get(URL + "search/", {"q": "planer discworld"}).json()["results"]]
    by_param = [b["title"] for b in viewer_client.get(URL, {"search": "planer discworld"}).json()["results"]]

    assert by_action == by_param == ["Guards! Guards!"]


def test_search_is_paginated(viewer_client):
    for n in range(5):
        BookFactory(title=f"Saga {n}")

    body = viewer_client.get(URL + "search/", {"q": "saga", "limit": 2}).json()

    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert "offset=2" in body["next"]


def test_search_needs_authentication(api_client):
    assert api_client.get(URL + "search/", {"q": "x"}).status_code == 401


# --- incomplete/ -----------------------------------------------------------------------------


def test_incomplete_lists_active_books_below_80_with_what_they_miss(viewer_client):
    full = complete_book()
    bare = BookFactory(title="Bare")
    archived = BookFactory(title="Archived and bare", status=BookStatus.ARCHIVED)
    assert full.metadata_completeness == 100
    assert archived.metadata_completeness < 80

    body = viewer_client.get(URL + "incomplete/").json()

    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == bare.id
    assert row["missing_fields"] == [
        "author",
        "series",
        "position",
        "isbn_or_asin",
        "publisher",
        "year",
        "duration",
        "description",
        "narrator",
    ]


def test_incomplete_orders_least_complete_first_and_takes_a_threshold(viewer_client):
    for title, value in [("Seventy", 70), ("Thirty", 30), ("Fifty", 50)]:
        set_completeness(BookFactory(title=title), value)

    default = viewer_client.get(URL + "incomplete/").json()
    below_50 = viewer_client.get(URL + "incomplete/", {"threshold": 50}).json()

    assert [b["title"] for b in default["results"]] == ["Thirty", "Fifty", "Seventy"]
    assert [b["title"] for b in below_50["results"]] == ["Thirty"]


def test_incomplete_names_the_missing_position(viewer_client):
    book = BookFactory(authors=[AuthorFactory()], asin="B000000001")
    SeriesEntryFactory(book=book, position=None)

    row = viewer_client.get(URL + "incomplete/").json()["results"][0]

    assert "series" not in row["missing_fields"]
    assert "position" in row["missing_fields"]
    assert "isbn_or_asin" not in row["missing_fields"]


@pytest.mark.parametrize("value", ["high", -1, 101])
def test_incomplete_rejects_a_bad_threshold(viewer_client, value):
    assert error_locs(viewer_client.get(URL + "incomplete/", {"threshold": value})) == [["query", "threshold"]]


# --- duplicates/ -----------------------------------------------------------------------------


def test_duplicates_groups_same_isbn_same_asin_and_close_titles_by_the_same_author(viewer_client):
    tolkien, other = AuthorFactory(name="J. R. R. Tolkien"), AuthorFactory()
    isbn_a = BookFactory(title="Edition A", isbn="9780261103344")
    isbn_b = BookFactory(title="Edition B", isbn="9780261103344")
    asin_a = BookFactory(title="Audible A", asin="B007978NPG")
    asin_b = BookFactory(title="Audible B", asin="B007978NPG")
    hobbit = BookFactory(title="The Hobbit", authors=[tolkien])
    hobbit_again = BookFactory(title="The Hobbit (Unabridged)", authors=[tolkien])
    BookFactory(title="The Hobbit", authors=[other])  # same title, other author
    BookFactory(title="The Hobbit", authors=[tolkien], status=BookStatus.ARCHIVED)

    body = viewer_client.get(URL + "duplicates/").json()

    assert body["count"] == 3
    groups = [(g["reason"], g["key"], [b["id"] for b in g["books"]]) for g in body["results"]]
    assert groups == [
        ("isbn", "9780261103344", [isbn_a.id, isbn_b.id]),
        ("asin", "B007978NPG", [asin_a.id, asin_b.id]),
        ("title", f"{tolkien.id}:the hobbit", [hobbit.id, hobbit_again.id]),
    ]
    brief = body["results"][2]["books"][0]
    assert set(brief) == {
        "id",
        "title",
        "authors",
        "isbn",
        "asin",
        "format",
        "duration_seconds",
        "size_bytes",
        "date_added",
    }
    assert brief["authors"] == [{"id": tolkien.id, "name": "J. R. R. Tolkien"}]


def test_numbered_volumes_are_not_duplicates(viewer_client):
    author = AuthorFactory()
    BookFactory(title="Saga Book 1", authors=[author])
    BookFactory(title="Saga Book 2", authors=[author])

    assert viewer_client.get(URL + "duplicates/").json()["count"] == 0


def test_duplicate_groups_are_paginated(viewer_client):
    for n in range(3):
        BookFactory(isbn=f"978000000000{n}")
        BookFactory(isbn=f"978000000000{n}")

    body = viewer_client.get(URL + "duplicates/", {"limit": 2}).json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]


# --- stats/ ----------------------------------------------------------------------------------


def test_stats_sums_up_the_library(viewer_client):
    in_series = BookFactory(language="en", format="m4b", duration_seconds=100, size_bytes=1000)
    SeriesEntryFactory(book=in_series)
    BookFactory(language="en", format="mp3", duration_seconds=50, size_bytes=500)
    old = BookFactory(language="de", format="m4b")
    Book.objects.filter(pk=old.pk).update(date_added=timezone.now() - timedelta(days=40), metadata_completeness=40)
    BookFactory(language="fr", format="flac", duration_seconds=999, status=BookStatus.ARCHIVED)
    expected_average = round(
        sum(Book.objects.filter(status="active").values_list("metadata_completeness", flat=True)) / 3, 1
    )

    body = viewer_client.get(URL + "stats/").json()

    assert body == {
        "total": 4,
        "active": 3,
        "by_status": {"active": 3, "archived": 1, "duplicate": 0},
        "by_format": {"m4b": 2, "mp3": 1},
        "by_language": {"en": 2, "de": 1},
        "total_duration_seconds": 150,
        "total_size_bytes": 1500,
        "average_completeness": expected_average,
        "with_series": 1,
        "without_series": 2,
        "added_last_30_days": 2,
    }


def test_stats_of_an_empty_library(viewer_client):
    body = viewer_client.get(URL + "stats/").json()

    assert body["total"] == 0
    assert body["average_completeness"] is None
    assert body["total_duration_seconds"] == 0


def test_stats_keeps_the_20_most_common_languages(viewer_client):
    Book.objects.bulk_create(
        Book(title=f"B{n}-{i}", language=f"l{n:02d}", status="active") for n in range(25) for i in range(n + 1)
    )

    by_language = viewer_client.get(URL + "stats/").json()["by_language"]

    assert list(by_language) == [f"l{n:02d}" for n in range(24, 4, -1)]


# --- bulk/ -----------------------------------------------------------------------------------


def bulk(client, **payload):
    return client.post(URL + "bulk/", payload, format="json")


def test_bulk_archives_and_restores(editor_client):
    saga = SeriesFactory()
    books = [BookFactory() for _ in range(3)]
    for position, book in enumerate(books, start=1):
        SeriesEntryFactory(book=book, series=saga, position=position)
    Book.objects.filter(pk=books[2].pk).update(status=BookStatus.ARCHIVED)
    ids = [b.id for b in books]

    response = bulk(editor_client, ids=[*ids, ids[0]], action="archive")

    assert response.status_code == 200
    assert response.json() == {"action": "archive", "requested": 3, "changed": 2}
    assert set(Book.objects.values_list("status", flat=True)) == {"archived"}
    saga.refresh_from_db()
    assert saga.books_owned == 0

    assert bulk(editor_client, ids=ids, action="restore").json() == {"action": "restore", "requested": 3, "changed": 3}
    saga.refresh_from_db()
    assert saga.books_owned == 3


def test_bulk_sets_a_status(editor_client):
    book = BookFactory()

    response = bulk(editor_client, ids=[book.id], action="set_status", status="duplicate")

    assert response.json()["changed"] == 1
    assert Book.objects.get().status == "duplicate"


def test_bulk_locks_and_unlocks_fields(editor_client):
    first, second = BookFactory(), BookFactory(locked_fields=["title"])

    locked = bulk(editor_client, ids=[first.id, second.id], action="lock", fields=["title", "isbn"])
    assert locked.json()["changed"] == 2
    assert list(Book.objects.order_by("id").values_list("locked_fields", flat=True)) == [["isbn", "title"]] * 2

    unlocked = bulk(editor_client, ids=[first.id], action="unlock", fields=["isbn"])
    assert unlocked.json() == {"action": "unlock", "requested": 1, "changed": 1}
    assert Book.objects.get(pk=first.pk).locked_fields == ["title"]


def test_bulk_rejects_unknown_ids(editor_client):
    book = BookFactory()

    response = bulk(editor_client, ids=[book.id, 55555], action="archive")

    assert error_locs(response) == [["body", "ids"]]
    assert "55555" in response.json()["context"]["validation_errors"][0]["msg"]
    assert Book.objects.get().status == "active"


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"ids": [], "action": "archive"}, ["body", "ids"]),
        ({"ids": ["one"], "action": "archive"}, ["body", "ids", 0]),
        ({"ids": list(range(1, 1002)), "action": "archive"}, ["body", "ids"]),
        ({"ids": [1], "action": "explode"}, ["body", "action"]),
        ({"ids": [1], "action": "set_status"}, ["body", "status"]),
        ({"ids": [1], "action": "set_status", "status": "lost"}, ["body", "status"]),
        ({"ids": [1], "action": "lock"}, ["body", "fields"]),
        ({"ids": [1], "action": "unlock", "fields": ["title", "abs_id"]}, ["body", "fields", 1]),
    ],
)
def test_bulk_rejects_bad_input(editor_client, payload, loc):
    Book.objects.bulk_create([Book(id=1, title="One")])

    assert error_locs(bulk(editor_client, **payload)) == [loc]


# --- lock/ and unlock/ -----------------------------------------------------------------------


def test_it_locks_and_unlocks_fields(editor_client):
    book = BookFactory(locked_fields=["title"])

    locked = editor_client.post(f"{URL}{book.id}/lock/", {"fields": ["isbn", "narrators"]}, format="json")

    assert locked.status_code == 200
    assert locked.json()["locked_fields"] == ["isbn", "narrators", "title"]
    assert "files" in locked.json()

    unlocked = editor_client.post(f"{URL}{book.id}/unlock/", {"fields": ["title", "isbn"]}, format="json")

    assert unlocked.json()["locked_fields"] == ["narrators"]
    assert Book.objects.get().locked_fields == ["narrators"]


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({}, ["body", "fields"]),
        ({"fields": []}, ["body", "fields"]),
        ({"fields": ["title", "metadata_completeness"]}, ["body", "fields", 1]),
        ({"fields": "title"}, ["body", "fields"]),
    ],
)
def test_lock_accepts_only_lockable_fields(editor_client, payload, loc):
    book = BookFactory()

    assert error_locs(editor_client.post(f"{URL}{book.id}/lock/", payload, format="json")) == [loc]
    assert Book.objects.get().locked_fields == []


def test_locking_an_unknown_book_is_not_found(editor_client):
    assert editor_client.post(f"{URL}4040/lock/", {"fields": ["title"]}, format="json").status_code == 404
