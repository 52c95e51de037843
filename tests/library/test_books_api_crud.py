"""``/api/v1/books/``: create, read, update, delete, their 422 shapes and who may do what."""

import re

import pytest

from library.api.serializers.books import BookDetailSerializer, BookIncompleteSerializer, BookSerializer
from library.choices import BookStatus
from library.models import Author, Book, BookFile, Narrator, Series
from tests.factories import AuthorFactory, BookFactory, NarratorFactory, SeriesEntryFactory, SeriesFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/books/"
READ_FIELDS = {
    "id",
    "title",
    "subtitle",
    "authors",
    "narrators",
    "series",
    "isbn",
    "asin",
    "publisher",
    "published_year",
    "published_date",
    "language",
    "description",
    "duration_seconds",
    "abridged",
    "format",
    "bitrate_kbps",
    "size_bytes",
    "abs_id",
    "status",
    "metadata_completeness",
    "metadata_sources",
    "locked_fields",
    "date_added",
    "updated_at",
}
UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def detail(book_id):
    return f"{URL}{book_id}/"


def locs(response):
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["error"] == "validation_error"
    return [entry["loc"] for entry in body["context"]["validation_errors"]]


# --- create ----------------------------------------------------------------------------------


def test_it_creates_a_book_from_names_and_ids(editor_client):
    known = AuthorFactory(name="Brandon Sanderson")
    narrator = NarratorFactory(name="Michael Kramer")
    response = editor_client.post(
        URL,
        {
            "title": "The Way of Kings",
            "authors": [known.id, "Reading, Kate"],
            "narrators": [narrator.id, "Kate Reading"],
            "series": [{"series": "The Stormlight Archive", "position": "1"}],
            "isbn": "978-0-7653-2635-5",
            "asin": "b003p2wo5e",
            "published_year": 2010,
            "duration_seconds": 163_000,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == READ_FIELDS | {"files"}
    assert [a["name"] for a in body["authors"]] == ["Brandon Sanderson", "Kate Reading"]
    assert body["authors"][0]["id"] == known.id
    assert {n["name"] for n in body["narrators"]} == {"Michael Kramer", "Kate Reading"}
    series = Series.objects.get(name="The Stormlight Archive")
    assert body["series"] == [{"id": series.id, "name": series.name, "position": "1", "position_label": "1"}]
    assert body["isbn"] == "9780765326355"
    assert body["asin"] == "B003P2WO5E"
    assert body["status"] == "active"
    assert body["metadata_completeness"] == 80  # no publisher, no description
    assert body["metadata_sources"]["title"]["source"] == "manual"
    assert body["files"] == []
    assert Book.objects.filter(pk=body["id"]).exists()


def test_it_reuses_people_whatever_the_spelling(editor_client):
    AuthorFactory(name="Terry Pratchett")
    response = editor_client.post(URL, {"title": "Mort", "authors": ["pratchett, terry", "TERRY PRATCHETT"]})

    assert response.status_code == 201
    assert len(response.json()["authors"]) == 1
    assert Author.objects.count() == 1


def test_it_creates_a_book_with_only_a_title(editor_client):
    response = editor_client.post(URL, {"title": "Untitled Draft"})

    assert response.status_code == 201
    body = response.json()
    assert body["authors"] == body["narrators"] == body["series"] == []
    assert body["abs_id"] is None
    assert body["metadata_completeness"] == 10


def test_it_writes_timestamps_in_utc_with_z(editor_client):
    body = editor_client.post(URL, {"title": "Dune"}).json()

    assert UTC_Z.match(body["date_added"])
    assert UTC_Z.match(body["updated_at"])


def test_the_issue_series_scenario_lists_back_by_series(editor_client):
    """Positions 1, 2, 2.5 and an omnibus 3-4 in one series, listed back with ``series=``."""
    for title, label in [("One", "1"), ("Two", "2"), ("Two and a Half", "2.5"), ("Three and Four", "3-4")]:
        response = editor_client.post(
            URL,
            {
                "title": title,
                "authors": ["Jim Butcher"],
                "series": [{"series": "The Dresden Files", "position": label}],
            },
        )
        assert response.status_code == 201, response.content
    BookFactory(title="Not in it")
    series = Series.objects.get()

    body = editor_client.get(URL, {"series": series.id, "ordering": "title"}).json()

    assert body["count"] == 4
    entries = {book["title"]: book["series"][0] for book in body["results"]}
    assert {title: (e["position"], e["position_label"]) for title, e in entries.items()} == {
        "One": ("1", "1"),
        "Two": ("2", "2"),
        "Two and a Half": ("2.5", "2.5"),
        "Three and Four": ("3", "3-4"),
    }
    assert all(e["id"] == series.id and e["name"] == "The Dresden Files" for e in entries.values())
    series.refresh_from_db()
    assert series.books_owned == 4


def test_it_accepts_a_series_without_position(editor_client):
    saga = SeriesFactory()
    response = editor_client.post(URL, {"title": "Prequel", "series": [{"series": saga.id}]})

    assert response.status_code == 201
    assert response.json()["series"] == [{"id": saga.id, "name": saga.name, "position": None, "position_label": ""}]


# --- create: 422 shapes ----------------------------------------------------------------------


def test_unknown_author_id_is_rejected_at_its_index(editor_client):
    author = AuthorFactory()

    response = editor_client.post(URL, {"title": "X", "authors": [author.id, "New Person", 999_999]})

    assert locs(response) == [["body", "authors", 2]]
    assert response.json()["context"]["validation_errors"][0]["type"] == "does_not_exist"
    assert not Book.objects.exists()


def test_unknown_narrator_id_is_rejected_at_its_index(editor_client):
    response = editor_client.post(URL, {"title": "X", "narrators": [424_242]})

    assert locs(response) == [["body", "narrators", 0]]


@pytest.mark.parametrize("value", [True, 1.5, {"id": 1}, "", "   ", "x" * 256, 0, -3])
def test_a_person_must_be_an_id_or_a_name(editor_client, value):
    response = editor_client.post(URL, {"title": "X", "authors": ["Fine Name", value]})

    assert locs(response) == [["body", "authors", 1]]


def test_bad_position_label_is_rejected_at_its_place(editor_client):
    response = editor_client.post(
        URL,
        {"title": "X", "series": [{"series": "Saga", "position": "2"}, {"series": "Other", "position": "two"}]},
    )

    assert locs(response) == [["body", "series", 1, "position"]]
    assert not Series.objects.exists()


def test_backwards_range_is_rejected(editor_client):
    response = editor_client.post(URL, {"title": "X", "series": [{"series": "Saga", "position": "4-3"}]})

    assert locs(response) == [["body", "series", 0, "position"]]


def test_unknown_series_id_is_rejected_at_its_place(editor_client):
    saga = SeriesFactory()

    response = editor_client.post(
        URL, {"title": "X", "series": [{"series": saga.id}, {"series": 31337, "position": "1"}]}
    )

    assert locs(response) == [["body", "series", 1, "series"]]


def test_title_is_required_and_bounded(editor_client):
    assert locs(editor_client.post(URL, {"subtitle": "no title"})) == [["body", "title"]]
    assert locs(editor_client.post(URL, {"title": "x" * 501})) == [["body", "title"]]
    assert locs(editor_client.post(URL, {"title": "ok", "publisher": "p" * 256})) == [["body", "publisher"]]


@pytest.mark.parametrize(
    ("isbn", "stored"),
    [("0-306-40615-2", "0306406152"), ("080442957x", "080442957X"), ("978 0 306 40615 7", "9780306406157"), ("", "")],
)
def test_it_normalises_isbns(editor_client, isbn, stored):
    response = editor_client.post(URL, {"title": "X", "isbn": isbn})

    assert response.status_code == 201
    assert response.json()["isbn"] == stored


@pytest.mark.parametrize("isbn", ["12345", "12345678901", "97803064061570", "X123456789", "abcdefghij"])
def test_it_rejects_malformed_isbns(editor_client, isbn):
    assert locs(editor_client.post(URL, {"title": "X", "isbn": isbn})) == [["body", "isbn"]]


@pytest.mark.parametrize("asin", ["B00", "B003P2WO5E1", "B003-2WO5E"])
def test_it_rejects_malformed_asins(editor_client, asin):
    assert locs(editor_client.post(URL, {"title": "X", "asin": asin})) == [["body", "asin"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("published_year", 999),
        ("published_year", 2101),
        ("status", "lost"),
        ("duration_seconds", -1),
        ("duration_seconds", 2**31),
        ("published_date", "yesterday"),
        ("format", "f" * 11),
        ("language", "l" * 33),
        ("abridged", "sometimes"),
    ],
)
def test_it_rejects_out_of_range_values(editor_client, field, value):
    assert locs(editor_client.post(URL, {"title": "X", field: value})) == [["body", field]]


def test_abs_id_is_unique_and_blank_means_none(editor_client):
    BookFactory(abs_id="li_123")

    assert locs(editor_client.post(URL, {"title": "X", "abs_id": "li_123"})) == [["body", "abs_id"]]
    assert editor_client.post(URL, {"title": "Y", "abs_id": ""}).json()["abs_id"] is None
    assert editor_client.post(URL, {"title": "Z", "abs_id": ""}).json()["abs_id"] is None


def test_a_body_that_is_not_an_object_is_rejected(editor_client):
    assert locs(editor_client.post(URL, [1, 2], format="json")) == [["body"]]


def test_unparseable_json_is_a_malformed_request(editor_client):
    response = editor_client.post(URL, "{nope", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "malformed_request"


# --- read ------------------------------------------------------------------------------------


def test_it_lists_books_in_the_documented_shape(viewer_client):
    first, second = AuthorFactory(name="Neil Gaiman"), AuthorFactory(name="Terry Pratchett")
    # Credit order is BookAuthor.position, not name or id order.
    book = BookFactory(title="Good Omens", authors=[second, first], narrators=[NarratorFactory(name="Martin Jarvis")])
    SeriesEntryFactory(book=book, series=SeriesFactory(name="Omens"), position="2.500", position_label="2.5")

    body = viewer_client.get(URL).json()

    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    row = body["results"][0]
    assert set(row) == READ_FIELDS
    assert row["authors"] == [{"id": second.id, "name": "Terry Pratchett"}, {"id": first.id, "name": "Neil Gaiman"}]
    assert row["narrators"] == [{"id": book.narrators.get().id, "name": "Martin Jarvis"}]
    assert row["series"][0]["position"] == "2.5"
    assert row["series"][0]["position_label"] == "2.5"
    assert UTC_Z.match(row["date_added"])


def test_retrieve_adds_the_files(viewer_client):
    book = BookFactory()
    BookFile.objects.create(book=book, path="/lib/b/02.mp3", size_bytes=20, format="mp3", duration_seconds=1.5)
    BookFile.objects.create(
        book=book, path="/lib/b/01.mp3", size_bytes=10, format="mp3", bitrate_kbps=64, codec="mp3", chapters=3
    )

    body = viewer_client.get(detail(book.id)).json()

    assert set(body) == READ_FIELDS | {"files"}
    assert body["files"] == [
        {
            "path": "/lib/b/01.mp3",
            "size_bytes": 10,
            "format": "mp3",
            "duration_seconds": None,
            "bitrate_kbps": 64,
            "codec": "mp3",
            "chapters": 3,
        },
        {
            "path": "/lib/b/02.mp3",
            "size_bytes": 20,
            "format": "mp3",
            "duration_seconds": 1.5,
            "bitrate_kbps": None,
            "codec": "",
            "chapters": None,
        },
    ]


def test_an_unknown_book_is_not_found(viewer_client):
    response = viewer_client.get(detail(987654))

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# --- update ----------------------------------------------------------------------------------


def test_put_replaces_the_given_fields_and_relations(editor_client):
    book = BookFactory(title="Old", authors=[AuthorFactory(name="Old Author")], publisher="Old House")
    SeriesEntryFactory(book=book, position=1, position_label="1")

    response = editor_client.put(
        detail(book.id),
        {"title": "New", "authors": ["New Author"], "series": [{"series": "New Saga", "position": "3-4"}]},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "New"
    assert [a["name"] for a in body["authors"]] == ["New Author"]
    assert [(s["name"], s["position"], s["position_label"]) for s in body["series"]] == [("New Saga", "3", "3-4")]
    assert body["publisher"] == "Old House"


def test_put_needs_the_title(editor_client):
    book = BookFactory()

    assert locs(editor_client.put(detail(book.id), {"publisher": "X"})) == [["body", "title"]]


def test_patch_changes_only_what_is_sent(editor_client):
    author = AuthorFactory()
    narrator = NarratorFactory()
    book = BookFactory(title="Keep", authors=[author], narrators=[narrator])

    response = editor_client.patch(detail(book.id), {"description": "Now described.", "narrators": []})

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Keep"
    assert body["description"] == "Now described."
    assert [a["id"] for a in body["authors"]] == [author.id]
    assert body["narrators"] == []
    assert body["metadata_sources"]["description"]["source"] == "manual"
    assert Narrator.objects.filter(pk=narrator.pk).exists()


def test_patch_can_change_the_status(editor_client):
    book = BookFactory()

    response = editor_client.patch(detail(book.id), {"status": "duplicate"})

    assert response.json()["status"] == BookStatus.DUPLICATE


def test_patch_keeps_its_own_abs_id(editor_client):
    book = BookFactory(abs_id="li_9")

    response = editor_client.patch(detail(book.id), {"abs_id": "li_9", "title": "Renamed"})

    assert response.status_code == 200
    assert response.json()["abs_id"] == "li_9"


def test_patch_errors_point_at_the_field(editor_client):
    book = BookFactory()

    assert locs(editor_client.patch(detail(book.id), {"authors": "Not A List"})) == [["body", "authors"]]


# --- delete ----------------------------------------------------------------------------------


def test_it_archives_instead_of_deleting(editor_client):
    saga = SeriesFactory()
    book = BookFactory()
    SeriesEntryFactory(book=book, series=saga, position=1, position_label="1")

    response = editor_client.delete(detail(book.id))

    assert response.status_code == 204
    book.refresh_from_db()
    assert book.status == BookStatus.ARCHIVED
    saga.refresh_from_db()
    assert saga.books_owned == 0
    assert editor_client.get(detail(book.id)).json()["status"] == "archived"


def test_an_admin_deletes_for_good_with_hard(admin_client):
    book = BookFactory()

    response = admin_client.delete(detail(book.id) + "?hard=true")

    assert response.status_code == 204
    assert not Book.objects.filter(pk=book.pk).exists()


def test_an_editor_may_not_delete_for_good(editor_client):
    book = BookFactory()

    response = editor_client.delete(detail(book.id) + "?hard=true")

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    book.refresh_from_db()
    assert book.status == BookStatus.ACTIVE


def test_hard_must_be_a_boolean(admin_client):
    book = BookFactory()

    assert locs(admin_client.delete(detail(book.id) + "?hard=perhaps")) == [["query", "hard"]]


def test_hard_false_archives(admin_client):
    book = BookFactory()

    assert admin_client.delete(detail(book.id) + "?hard=false").status_code == 204
    assert Book.objects.get(pk=book.pk).status == BookStatus.ARCHIVED


# --- who may do what -------------------------------------------------------------------------


def test_anonymous_requests_are_unauthorized(api_client):
    book = BookFactory()

    for response in (api_client.get(URL), api_client.get(detail(book.id)), api_client.post(URL, {"title": "X"})):
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"


def test_a_viewer_reads_but_does_not_write(viewer_client):
    book = BookFactory()

    assert viewer_client.get(URL).status_code == 200
    assert viewer_client.get(detail(book.id)).status_code == 200
    writes = [
        viewer_client.post(URL, {"title": "X"}),
        viewer_client.put(detail(book.id), {"title": "X"}),
        viewer_client.patch(detail(book.id), {"title": "X"}),
        viewer_client.delete(detail(book.id)),
        viewer_client.post(f"{URL}bulk/", {"ids": [book.id], "action": "archive"}),
        viewer_client.post(f"{detail(book.id)}lock/", {"fields": ["title"]}),
        viewer_client.post(f"{detail(book.id)}unlock/", {"fields": ["title"]}),
    ]
    assert [r.status_code for r in writes] == [403] * len(writes)
    book.refresh_from_db()
    assert book.status == BookStatus.ACTIVE


def test_api_key_scopes_cap_the_role(api_key_client):
    admin = UserFactory(username="keyholder", role="admin")
    reader = api_key_client(admin, scopes=["read"])
    writer = api_key_client(admin, scopes=["read", "write"])
    book = BookFactory()

    assert reader.get(URL).status_code == 200
    assert reader.post(URL, {"title": "X"}, format="json").status_code == 403
    assert writer.post(URL, {"title": "X"}, format="json").status_code == 201
    assert writer.delete(detail(book.id) + "?hard=true").status_code == 403
    assert Book.objects.filter(pk=book.pk).exists()


def test_the_documented_fields_are_the_ones_returned(viewer_client):
    """The read serialisers build rows by hand; their declared fields (the schema) must match."""
    book = BookFactory()
    listed = viewer_client.get(URL).json()["results"][0]
    detailed = viewer_client.get(detail(book.id)).json()
    incomplete = viewer_client.get(URL + "incomplete/").json()["results"][0]

    assert set(BookSerializer().fields) == set(listed)
    assert set(BookDetailSerializer().fields) == set(detailed)
    assert set(BookIncompleteSerializer().fields) == set(incomplete)


def test_the_browsable_api_renders_for_an_admin_session(admin_user, client):
    client.force_login(admin_user)
    book = BookFactory(authors=[AuthorFactory()])
    SeriesEntryFactory(book=book, position=1, position_label="1")

    for url in (URL, detail(book.id), URL + "stats/", URL + "duplicates/"):
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert b"<html" in response.content
