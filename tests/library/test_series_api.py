"""The series API: CRUD, books in reading order, completion, monitoring, summaries."""

from decimal import Decimal

import pytest

from library.choices import BookStatus
from library.models import Book, Series, SeriesEntry
from library.services.books import book_create, series_ref
from mamcrawler.accounts.models import User
from tests.factories import AuthorFactory, BookFactory, SeriesFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/series/"


def detail(series, suffix=""):
    return f"{URL}{series.id}/{suffix}"


def book_in(series, label, title=None, authors=(), status=BookStatus.ACTIVE):
    return book_create(
        fields={"title": title or f"Book {label}", "status": status},
        authors=list(authors),
        series=[series_ref(series, label)],
    )


@pytest.fixture
def sanderson():
    return AuthorFactory(name="Brandon Sanderson")


# --- create ---------------------------------------------------------------------------------


def test_it_creates_a_series_with_its_authors(editor_client, sanderson):
    cowriter = AuthorFactory(name="Dan Wells")
    response = editor_client.post(
        URL,
        {
            "name": "  The   Stormlight Archive ",
            "authors": [sanderson.id, cowriter.id],
            "total_known": 10,
            "monitored": True,
            "openlibrary_id": "OL1W",
            "audible_asin": "B00ABC",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "The Stormlight Archive"
    assert body["authors"] == [
        {"id": sanderson.id, "name": "Brandon Sanderson"},
        {"id": cowriter.id, "name": "Dan Wells"},
    ]
    assert body["monitored"] is True
    assert body["total_known"] == 10
    assert body["books_owned"] == 0
    assert body["books_missing"] == 10
    assert body["completion_percentage"] == 0
    assert body["completion_status"] == "incomplete"
    assert body["openlibrary_id"] == "OL1W"
    assert body["audible_asin"] == "B00ABC"
    assert body["last_checked"] is None
    assert Series.objects.get(id=body["id"]).primary_author == sanderson


def test_a_series_without_a_total_has_unknown_completion(editor_client):
    body = editor_client.post(URL, {"name": "Discworld"}).json()
    assert body["authors"] == []
    assert body["completion_percentage"] is None
    assert body["completion_status"] == "unknown"


def test_the_same_name_for_the_same_primary_author_is_a_conflict(editor_client, sanderson):
    existing = SeriesFactory(name="Mistborn", primary_author=sanderson)
    response = editor_client.post(URL, {"name": "MISTBORN", "authors": [sanderson.id]})
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "conflict"
    assert body["context"] == {"series_id": existing.id}


def test_the_same_name_for_another_author_is_allowed(editor_client, sanderson):
    SeriesFactory(name="Legacy", primary_author=sanderson)
    other = AuthorFactory(name="Someone Else")
    assert editor_client.post(URL, {"name": "Legacy", "authors": [other.id]}).status_code == 201


def test_two_author_less_series_of_one_name_conflict(editor_client):
    SeriesFactory(name="Anthology")
    assert editor_client.post(URL, {"name": "anthology"}).status_code == 409


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({}, ["body", "name"]),
        ({"name": "X", "authors": [999999]}, ["body", "authors"]),
        ({"name": "X", "total_known": -1}, ["body", "total_known"]),
        ({"name": "x" * 300}, ["body", "name"]),
    ],
)
def test_bad_input_is_a_validation_error(editor_client, payload, loc):
    response = editor_client.post(URL, payload)
    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == loc


# --- read, update, delete -------------------------------------------------------------------


def test_it_retrieves_a_series(viewer_client, sanderson):
    series = SeriesFactory(name="Mistborn", primary_author=sanderson, total_known=7, mam_id="123")
    series.authors.add(sanderson)
    body = viewer_client.get(detail(series)).json()
    assert body["id"] == series.id
    assert body["authors"] == [{"id": sanderson.id, "name": "Brandon Sanderson"}]
    assert body["mam_id"] == "123"
    for field in ("monitored", "books_owned", "books_missing", "completion_status", "last_checked", "google_id"):
        assert field in body


def test_an_unknown_series_is_not_found(viewer_client):
    response = viewer_client.get(f"{URL}999999/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_updating_the_total_recalculates_completion(editor_client):
    series = SeriesFactory(name="Saga")
    book_in(series, "1")
    book_in(series, "2")
    response = editor_client.patch(detail(series), {"total_known": 4})
    assert response.status_code == 200
    body = response.json()
    assert body["books_missing"] == 2
    assert body["completion_percentage"] == 50
    assert body["completion_status"] == "partial"


def test_a_full_update_replaces_the_authors(editor_client, sanderson):
    series = SeriesFactory(name="Saga", primary_author=sanderson)
    series.authors.add(sanderson)
    other = AuthorFactory(name="Janci Patterson")
    response = editor_client.put(detail(series), {"name": "Skyward Flight", "authors": [other.id], "total_known": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Skyward Flight"
    assert body["authors"] == [{"id": other.id, "name": "Janci Patterson"}]
    series.refresh_from_db()
    assert series.primary_author == other


def test_renaming_onto_an_existing_name_is_a_conflict(editor_client, sanderson):
    SeriesFactory(name="Mistborn", primary_author=sanderson)
    series = SeriesFactory(name="Elantris", primary_author=sanderson)
    response = editor_client.patch(detail(series), {"name": "mistborn"})
    assert response.status_code == 409


def test_deleting_a_series_keeps_its_books(editor_client):
    series = SeriesFactory()
    book = book_in(series, "1")
    assert Book.objects.get(id=book.id).metadata_completeness > 0
    before = Book.objects.get(id=book.id).metadata_completeness
    response = editor_client.delete(detail(series))
    assert response.status_code == 204
    assert not Series.objects.filter(id=series.id).exists()
    assert not SeriesEntry.objects.filter(book=book).exists()
    # Series and position no longer count toward the book's completeness.
    assert Book.objects.get(id=book.id).metadata_completeness == before - 20


# --- books in reading order -----------------------------------------------------------------


def test_it_lists_books_by_numeric_position_with_unknown_positions_last(viewer_client, sanderson):
    series = SeriesFactory(name="Cosmere", total_known=5)
    # Created out of order, with labels that sort wrongly as text ("10" < "2").
    unknown = book_in(series, None, title="A Companion", authors=[sanderson])
    omnibus = book_in(series, "3-4", title="Omnibus", authors=[sanderson])
    ten = book_in(series, "10", title="Tenth")
    novella = book_in(series, "2.5", title="Novella")
    second = book_in(series, "2", title="Second")
    first = book_in(series, "1", title="First", authors=[sanderson])
    BookFactory(title="Not In The Series")

    response = viewer_client.get(detail(series, "books/"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6
    rows = body["results"]
    assert [row["id"] for row in rows] == [first.id, second.id, novella.id, omnibus.id, ten.id, unknown.id]
    assert [row["position"] for row in rows] == ["1", "2", "2.5", "3", "10", None]
    assert [row["position_label"] for row in rows] == ["1", "2", "2.5", "3-4", "10", ""]
    assert rows[0] == {
        "id": first.id,
        "title": "First",
        "authors": [{"id": sanderson.id, "name": "Brandon Sanderson"}],
        "status": "active",
        "position": "1",
        "position_label": "1",
    }


def test_series_books_are_paginated(viewer_client):
    series = SeriesFactory()
    for number in range(1, 6):
        book_in(series, str(number))
    body = viewer_client.get(detail(series, "books/"), {"limit": 2, "offset": 2}).json()
    assert body["count"] == 5
    assert [row["position"] for row in body["results"]] == ["3", "4"]
    assert body["next"] and body["previous"]


def test_series_books_show_archived_books_with_their_status(viewer_client):
    series = SeriesFactory()
    book_in(series, "1", status=BookStatus.ARCHIVED)
    assert viewer_client.get(detail(series, "books/")).json()["results"][0]["status"] == "archived"


# --- completion -----------------------------------------------------------------------------


def test_completion_reports_owned_missing_and_fractional_positions(viewer_client):
    series = SeriesFactory(name="Stormlight", total_known=5)
    for label in ("1", "2", "2.5", "3-4"):
        book_in(series, label)
    book_in(series, "5", status=BookStatus.ARCHIVED)

    response = viewer_client.get(detail(series, "completion/"))
    assert response.status_code == 200
    assert response.json() == {
        "id": series.id,
        "name": "Stormlight",
        "total_known": 5,
        "books_owned": 4,
        "books_missing": 1,
        "completion_percentage": 80.0,
        "completion_status": "partial",
        "owned_positions": [1, 2, 3, 4],
        "missing_positions": [5],
        "fractional_positions": ["2.5"],
    }


def test_completion_without_a_total_has_no_missing_positions(viewer_client):
    series = SeriesFactory(total_known=None)
    book_in(series, "2")
    body = viewer_client.get(detail(series, "completion/")).json()
    assert body["owned_positions"] == [2]
    assert body["missing_positions"] == []
    assert body["completion_status"] == "unknown"


def test_recalculate_repairs_stale_counts(editor_client):
    series = SeriesFactory(total_known=2)
    book_in(series, "1")
    Series.objects.filter(id=series.id).update(books_owned=0, books_missing=0, completion_percentage=None)
    response = editor_client.post(detail(series, "recalculate/"))
    assert response.status_code == 200
    assert response.json()["books_owned"] == 1
    assert response.json()["completion_percentage"] == 50


def test_monitor_and_unmonitor_set_the_flag(editor_client):
    series = SeriesFactory(monitored=False)
    assert editor_client.post(detail(series, "monitor/")).json()["monitored"] is True
    series.refresh_from_db()
    assert series.monitored is True
    assert editor_client.post(detail(series, "unmonitor/")).json()["monitored"] is False
    series.refresh_from_db()
    assert series.monitored is False


def test_completion_summary_counts_series_per_status(viewer_client):
    SeriesFactory(completion_status="complete", completion_percentage=Decimal("100"), books_missing=0, monitored=True)
    SeriesFactory(completion_status="partial", completion_percentage=Decimal("60"), books_missing=2)
    SeriesFactory(completion_status="incomplete", completion_percentage=Decimal("20"), books_missing=4)
    SeriesFactory(completion_status="unknown", completion_percentage=None, books_owned=3)
    response = viewer_client.get(f"{URL}completion-summary/")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 4
    assert body["monitored"] == 1
    assert body["by_status"] == {"complete": 1, "partial": 1, "incomplete": 1, "unknown": 1}
    assert body["average_completion"] == 60.0
    assert body["total_missing"] == 6
    assert body["total_owned"] == 3


def test_completion_summary_of_an_empty_library(viewer_client):
    body = viewer_client.get(f"{URL}completion-summary/").json()
    assert body["total"] == 0
    assert body["average_completion"] is None
    assert body["total_missing"] == 0


def test_incomplete_lists_partial_and_incomplete_series_by_most_missing(viewer_client):
    few = SeriesFactory(name="Few", completion_status="partial", books_missing=1)
    many = SeriesFactory(name="Many", completion_status="incomplete", books_missing=9)
    SeriesFactory(name="Done", completion_status="complete", books_missing=0)
    SeriesFactory(name="Unknown", completion_status="unknown", books_missing=0)
    body = viewer_client.get(f"{URL}incomplete/").json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [many.id, few.id]


# --- authentication and roles ---------------------------------------------------------------


def test_anonymous_requests_are_unauthorized(api_client):
    response = api_client.get(URL)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("post", None),
        ("patch", ""),
        ("put", ""),
        ("delete", ""),
        ("post", "recalculate/"),
        ("post", "monitor/"),
        ("post", "unmonitor/"),
    ],
)
def test_viewers_cannot_write(viewer_client, method, suffix):
    series = SeriesFactory(name="Keep")
    url = URL if suffix is None else detail(series, suffix)
    response = getattr(viewer_client, method)(url, {"name": "Changed"})
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    series.refresh_from_db()
    assert series.name == "Keep"


@pytest.mark.parametrize("suffix", ["", "books/", "completion/"])
def test_viewers_can_read(viewer_client, suffix):
    series = SeriesFactory()
    assert viewer_client.get(detail(series, suffix)).status_code == 200


def test_admins_can_write(admin_client):
    assert admin_client.post(URL, {"name": "By The Boss"}).status_code == 201


def test_a_read_scoped_api_key_cannot_write_even_for_an_editor(api_key_client, editor_user):
    client = api_key_client(editor_user, scopes=("read",))
    assert client.get(URL).status_code == 200
    assert client.post(URL, {"name": "Nope"}).status_code == 403


def test_a_write_scoped_api_key_can_write(api_key_client, editor_user):
    client = api_key_client(editor_user, scopes=("read", "write"))
    assert client.post(URL, {"name": "Yes"}).status_code == 201


def test_a_viewer_with_a_write_key_still_cannot_write(api_key_client):
    viewer = User.objects.create_user(username="reader", role="viewer")
    client = api_key_client(viewer, scopes=("write",))
    assert client.post(URL, {"name": "Nope"}).status_code == 403
