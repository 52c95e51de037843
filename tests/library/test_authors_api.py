"""The authors API: CRUD, their books and series, completion, favourites, monitoring."""

from decimal import Decimal

import pytest

from library.choices import BookStatus
from library.models import Author
from library.services.books import book_create, series_ref
from library.services.completion import author_recalculate_many
from tests.factories import AuthorFactory, BookFactory, SeriesFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/authors/"


def detail(author, suffix=""):
    return f"{URL}{author.id}/{suffix}"


# --- create ---------------------------------------------------------------------------------


def test_it_creates_an_author_from_last_first(editor_client):
    response = editor_client.post(URL, {"name": "Sanderson, Brandon", "monitored": True, "hardcover_id": "hc-1"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Brandon Sanderson"
    assert body["sort_name"] == "Sanderson, Brandon"
    assert body["monitored"] is True
    assert body["hardcover_id"] == "hc-1"
    assert body["books_owned"] == 0
    assert body["books_known"] is None
    assert body["completion_percentage"] is None
    assert body["completion_status"] == "unknown"
    for field in ("books_missing", "last_checked", "openlibrary_id", "google_id", "audible_asin", "mam_id"):
        assert field in body


def test_a_known_total_gives_a_completion(editor_client):
    body = editor_client.post(URL, {"name": "Robin Hobb", "books_known": 4}).json()
    assert body["books_missing"] == 4
    assert body["completion_percentage"] == 0
    assert body["completion_status"] == "incomplete"


@pytest.mark.parametrize("name", ["brandon sanderson", "Sanderson, Brandon", "  BRANDON   SANDERSON "])
def test_a_duplicate_name_is_a_conflict(editor_client, name):
    existing = AuthorFactory(name="Brandon Sanderson")
    response = editor_client.post(URL, {"name": name})
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "conflict"
    assert body["context"] == {"author_id": existing.id}
    assert Author.objects.count() == 1


def test_an_author_needs_a_name(editor_client):
    response = editor_client.post(URL, {"name": "   "})
    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["body", "name"]


# --- read, update, delete -------------------------------------------------------------------


def test_it_retrieves_an_author(viewer_client):
    author = AuthorFactory(name="Ursula K. Le Guin", mam_id="42")
    body = viewer_client.get(detail(author)).json()
    assert body["id"] == author.id
    assert body["name"] == "Ursula K. Le Guin"
    assert body["mam_id"] == "42"


def test_renaming_refreshes_the_sort_name(editor_client):
    author = AuthorFactory(name="Robert Jordan")
    body = editor_client.patch(detail(author), {"name": "Jordan, Robert James"}).json()
    assert body["name"] == "Robert James Jordan"
    assert body["sort_name"] == "Jordan, Robert James"


def test_an_explicit_sort_name_is_kept(editor_client):
    author = AuthorFactory(name="Robert Jordan")
    body = editor_client.patch(detail(author), {"name": "Robert Jordan Jr", "sort_name": "Jordan Jr, Robert"}).json()
    assert body["sort_name"] == "Jordan Jr, Robert"


def test_renaming_onto_another_author_is_a_conflict(editor_client):
    AuthorFactory(name="Terry Pratchett")
    author = AuthorFactory(name="T. Pratchett")
    response = editor_client.patch(detail(author), {"name": "Pratchett, Terry"})
    assert response.status_code == 409


def test_renaming_an_author_to_their_own_name_in_another_case_is_fine(editor_client):
    author = AuthorFactory(name="terry pratchett")
    response = editor_client.put(detail(author), {"name": "Terry Pratchett"})
    assert response.status_code == 200
    assert response.json()["name"] == "Terry Pratchett"


def test_changing_the_known_total_recalculates(editor_client):
    author = AuthorFactory()
    BookFactory.create_batch(3, authors=[author])
    body = editor_client.patch(detail(author), {"books_known": 4}).json()
    assert body["books_owned"] == 3
    assert body["books_missing"] == 1
    assert body["completion_percentage"] == 75
    assert body["completion_status"] == "partial"


def test_deleting_an_author_with_books_is_a_conflict(editor_client):
    author = AuthorFactory()
    book = BookFactory(authors=[author])
    response = editor_client.delete(detail(author))
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "conflict"
    assert "merge" in body["detail"]
    assert body["context"] == {"author_id": author.id, "books": 1}
    assert book.authors.get() == author


def test_deleting_an_author_without_books_answers_204(editor_client):
    author = AuthorFactory()
    assert editor_client.delete(detail(author)).status_code == 204
    assert not Author.objects.filter(id=author.id).exists()


def test_deleting_an_author_hands_their_series_to_the_next_author(editor_client):
    author, cowriter = AuthorFactory(), AuthorFactory()
    series = SeriesFactory(primary_author=author)
    series.authors.add(author, cowriter)
    assert editor_client.delete(detail(author)).status_code == 204
    series.refresh_from_db()
    assert series.primary_author == cowriter
    assert list(series.authors.all()) == [cowriter]


def test_deleting_an_author_whose_series_would_clash_is_a_conflict(editor_client):
    author = AuthorFactory()
    SeriesFactory(name="Collected", primary_author=author)
    SeriesFactory(name="Collected", primary_author=None)
    response = editor_client.delete(detail(author))
    assert response.status_code == 409
    assert Author.objects.filter(id=author.id).exists()


# --- books, series, completion --------------------------------------------------------------


def test_it_lists_an_authors_books_by_title(viewer_client):
    author, cowriter = AuthorFactory(name="Terry Pratchett"), AuthorFactory(name="Neil Gaiman")
    mort = BookFactory(title="Mort", authors=[author])
    omens = BookFactory(title="Good Omens", authors=[cowriter, author])
    BookFactory(title="Coraline", authors=[cowriter])
    body = viewer_client.get(detail(author, "books/")).json()
    assert body["count"] == 2
    assert body["results"] == [
        {
            "id": omens.id,
            "title": "Good Omens",
            "authors": [{"id": cowriter.id, "name": "Neil Gaiman"}, {"id": author.id, "name": "Terry Pratchett"}],
            "status": "active",
        },
        {"id": mort.id, "title": "Mort", "authors": [{"id": author.id, "name": "Terry Pratchett"}], "status": "active"},
    ]


def test_it_lists_the_series_an_author_leads_or_shares(viewer_client):
    author = AuthorFactory(name="Terry Pratchett")
    led = SeriesFactory(name="Discworld", primary_author=author)
    shared = SeriesFactory(name="Long Earth")
    shared.authors.add(author)
    SeriesFactory(name="Someone Else's")
    body = viewer_client.get(detail(author, "series/")).json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [led.id, shared.id]
    assert body["results"][0]["authors"] == [{"id": author.id, "name": "Terry Pratchett"}]


def test_completion_lists_the_authors_series(viewer_client):
    author = AuthorFactory(name="Brandon Sanderson", books_known=10)
    series = SeriesFactory(name="Mistborn", total_known=3)
    for label in ("1", "2"):
        book_create(fields={"title": f"Era {label}"}, authors=[author], series=[series_ref(series, label)])
    unknown = SeriesFactory(name="Cosmere Shorts")
    unknown.authors.add(author)

    response = viewer_client.get(detail(author, "completion/"))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == author.id
    assert body["books_owned"] == 2
    assert body["books_known"] == 10
    assert body["books_missing"] == 8
    assert body["completion_percentage"] == 20
    assert body["completion_status"] == "incomplete"
    assert body["series_by_status"] == {"complete": 0, "partial": 1, "incomplete": 0, "unknown": 1}
    assert body["series"] == [
        {
            "id": unknown.id,
            "name": "Cosmere Shorts",
            "total_known": None,
            "books_owned": 0,
            "books_missing": 0,
            "completion_percentage": None,
            "completion_status": "unknown",
        },
        {
            "id": series.id,
            "name": "Mistborn",
            "total_known": 3,
            "books_owned": 2,
            "books_missing": 1,
            "completion_percentage": 66.67,
            "completion_status": "partial",
        },
    ]


def test_recalculate_repairs_stale_counts(editor_client):
    author = AuthorFactory()
    BookFactory.create_batch(2, authors=[author])
    BookFactory(authors=[author], status=BookStatus.ARCHIVED)
    Author.objects.filter(id=author.id).update(books_owned=0)
    response = editor_client.post(detail(author, "recalculate/"))
    assert response.status_code == 200
    assert response.json()["books_owned"] == 2


def test_monitor_and_unmonitor_set_the_flag(editor_client):
    author = AuthorFactory()
    assert editor_client.post(detail(author, "monitor/")).json()["monitored"] is True
    assert Author.objects.get(id=author.id).monitored is True
    assert editor_client.post(detail(author, "unmonitor/")).json()["monitored"] is False
    assert Author.objects.get(id=author.id).monitored is False


# --- favourites and summary -----------------------------------------------------------------


def test_favorites_are_authors_with_at_least_two_owned_books_by_default(viewer_client):
    most = AuthorFactory(name="Most Books", books_owned=9)
    two = AuthorFactory(name="Two Books", books_owned=2)
    AuthorFactory(name="One Book", books_owned=1)
    body = viewer_client.get(f"{URL}favorites/").json()
    assert [row["id"] for row in body["results"]] == [most.id, two.id]


def test_favorites_take_a_minimum(viewer_client):
    most = AuthorFactory(books_owned=9)
    AuthorFactory(books_owned=2)
    body = viewer_client.get(f"{URL}favorites/", {"min_books": 5}).json()
    assert [row["id"] for row in body["results"]] == [most.id]


def test_favorites_count_only_active_books(viewer_client):
    prolific = AuthorFactory()
    BookFactory.create_batch(2, authors=[prolific])
    mostly_archived = AuthorFactory()
    BookFactory(authors=[mostly_archived])
    BookFactory.create_batch(2, authors=[mostly_archived], status=BookStatus.ARCHIVED)
    author_recalculate_many(author_ids=[prolific.id, mostly_archived.id])
    assert [row["id"] for row in viewer_client.get(f"{URL}favorites/").json()["results"]] == [prolific.id]


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_minimum_is_a_query_validation_error(viewer_client, value):
    response = viewer_client.get(f"{URL}favorites/", {"min_books": value})
    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["query", "min_books"]


def test_completion_summary_counts_authors(viewer_client):
    AuthorFactory(completion_status="complete", completion_percentage=Decimal("100"), books_owned=5, monitored=True)
    AuthorFactory(completion_status="partial", completion_percentage=Decimal("50"), books_owned=2, books_missing=2)
    AuthorFactory(completion_status="unknown", books_owned=1)
    body = viewer_client.get(f"{URL}completion-summary/").json()
    assert body == {
        "total": 3,
        "monitored": 1,
        "by_status": {"complete": 1, "partial": 1, "incomplete": 0, "unknown": 1},
        "average_completion": 75.0,
        "total_missing": 2,
        "total_owned": 8,
    }


# --- authentication and roles ---------------------------------------------------------------


def test_anonymous_requests_are_unauthorized(api_client):
    assert api_client.get(URL).status_code == 401
    assert api_client.post(f"{URL}merge/", {}).status_code == 401


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
        ("post", "merge"),
    ],
)
def test_viewers_cannot_write(viewer_client, method, suffix):
    author = AuthorFactory(name="Kept Name")
    other = AuthorFactory()
    if suffix is None:
        url = URL
    elif suffix == "merge":
        url = f"{URL}merge/"
    else:
        url = detail(author, suffix)
    response = getattr(viewer_client, method)(url, {"name": "Changed", "target": author.id, "sources": [other.id]})
    assert response.status_code == 403
    assert Author.objects.get(id=author.id).name == "Kept Name"
    assert Author.objects.filter(id=other.id).exists()


@pytest.mark.parametrize("suffix", ["", "books/", "series/", "completion/"])
def test_viewers_can_read(viewer_client, suffix):
    assert viewer_client.get(detail(AuthorFactory(), suffix)).status_code == 200


def test_a_read_scoped_api_key_cannot_write(api_key_client, admin_user):
    client = api_key_client(admin_user, scopes=("read",))
    assert client.get(URL).status_code == 200
    assert client.post(URL, {"name": "New Person"}).status_code == 403
    assert not Author.objects.filter(name="New Person").exists()
