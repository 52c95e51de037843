"""``/api/v1/books/``: paging, every filter, ``search=`` and ``ordering=``."""

from datetime import UTC, datetime

import pytest

from library.models import Book
from tests.factories import AuthorFactory, BookFactory, NarratorFactory, SeriesEntryFactory, SeriesFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/books/"


def titles(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return [book["title"] for book in response.json()["results"]]


def error_locs(response):
    assert response.status_code == 422, response.content
    return [entry["loc"] for entry in response.json()["context"]["validation_errors"]]


def added_on(book, when):
    Book.objects.filter(pk=book.pk).update(date_added=when)


# --- paging ----------------------------------------------------------------------------------


def test_it_pages_through_120_books(viewer_client):
    Book.objects.bulk_create(Book(title=f"Book {n:03d}") for n in range(120))

    seen = []
    url = URL + "?limit=50"
    pages = []
    while url:
        body = viewer_client.get(url).json()
        assert body["count"] == 120
        pages.append(body)
        seen += [book["title"] for book in body["results"]]
        url = body["next"]

    assert [len(page["results"]) for page in pages] == [50, 50, 20]
    assert seen == [f"Book {n:03d}" for n in range(120)]
    assert pages[0]["previous"] is None
    assert "offset=50" in pages[1]["previous"] or pages[1]["previous"].endswith("limit=50")
    assert "offset=100" in pages[1]["next"]


def test_offset_starts_later(viewer_client):
    Book.objects.bulk_create(Book(title=f"Book {n:03d}") for n in range(120))

    body = viewer_client.get(URL, {"limit": 10, "offset": 115}).json()

    assert [b["title"] for b in body["results"]] == [f"Book {n}" for n in range(115, 120)]
    assert body["next"] is None
    assert "offset=105" in body["previous"]


def test_the_default_page_is_50(viewer_client):
    Book.objects.bulk_create(Book(title=f"Book {n:03d}") for n in range(60))

    assert len(viewer_client.get(URL).json()["results"]) == 50


def test_limit_above_500_is_capped(viewer_client):
    Book.objects.bulk_create(Book(title=f"Book {n:04d}") for n in range(510))

    body = viewer_client.get(URL, {"limit": 1000}).json()

    assert body["count"] == 510
    assert len(body["results"]) == 500


# --- filters ---------------------------------------------------------------------------------


def test_it_filters_by_status(viewer_client):
    BookFactory(title="Kept")
    BookFactory(title="Gone", status="archived")

    assert titles(viewer_client, status="archived") == ["Gone"]
    assert titles(viewer_client, status="active") == ["Kept"]
    assert error_locs(viewer_client.get(URL, {"status": "lost"})) == [["query", "status"]]


def test_it_filters_by_author_series_and_narrator(viewer_client):
    author, other = AuthorFactory(), AuthorFactory()
    narrator = NarratorFactory()
    saga = SeriesFactory()
    mine = BookFactory(title="Mine", authors=[other, author], narrators=[narrator])
    SeriesEntryFactory(book=mine, series=saga, position=1)
    BookFactory(title="Theirs", authors=[other])

    assert titles(viewer_client, author=author.id) == ["Mine"]
    assert titles(viewer_client, author=other.id) == ["Mine", "Theirs"]
    assert titles(viewer_client, narrator=narrator.id) == ["Mine"]
    assert titles(viewer_client, series=saga.id) == ["Mine"]
    assert titles(viewer_client, author=10**6) == []
    assert error_locs(viewer_client.get(URL, {"author": "someone"})) == [["query", "author"]]


def test_it_filters_by_language_format_and_abridged(viewer_client):
    BookFactory(title="English", language="en", format="m4b")
    BookFactory(title="German", language="de", format="mp3", abridged=True)

    assert titles(viewer_client, language="EN") == ["English"]
    assert titles(viewer_client, format="MP3") == ["German"]
    assert titles(viewer_client, abridged="true") == ["German"]
    assert titles(viewer_client, abridged="false") == ["English"]


def test_it_filters_by_series_membership(viewer_client):
    SeriesEntryFactory(book=BookFactory(title="In one"))
    BookFactory(title="Standalone")

    assert titles(viewer_client, has_series="true") == ["In one"]
    assert titles(viewer_client, has_series="false") == ["Standalone"]


def test_it_filters_by_completeness(viewer_client):
    for title, completeness in [("Sparse", 20), ("Middling", 60), ("Full", 100)]:
        Book.objects.filter(pk=BookFactory(title=title).pk).update(metadata_completeness=completeness)

    assert titles(viewer_client, completeness_below=60) == ["Sparse"]
    assert titles(viewer_client, completeness_below=100) == ["Middling", "Sparse"]
    assert error_locs(viewer_client.get(URL, {"completeness_below": "lots"})) == [["query", "completeness_below"]]
    assert error_locs(viewer_client.get(URL, {"completeness_below": 101})) == [["query", "completeness_below"]]


def test_it_filters_by_date_added_with_dates_or_datetimes(viewer_client):
    added_on(BookFactory(title="Old"), datetime(2023, 5, 1, 12, tzinfo=UTC))
    added_on(BookFactory(title="New"), datetime(2024, 3, 1, 8, tzinfo=UTC))

    assert titles(viewer_client, added_after="2024-01-01") == ["New"]
    assert titles(viewer_client, added_before="2024-01-01") == ["Old"]
    assert titles(viewer_client, added_after="2024-03-01T08:00:00Z") == ["New"]
    assert titles(viewer_client, added_after="2024-03-01T08:00:01Z") == []
    assert titles(viewer_client, added_after="2023-01-01", added_before="2023-12-31T23:59:59Z") == ["Old"]
    assert error_locs(viewer_client.get(URL, {"added_after": "last week"})) == [["query", "added_after"]]


def test_it_filters_by_monitored_author_or_series(viewer_client):
    watched_author = AuthorFactory(monitored=True)
    watched_series = SeriesFactory(monitored=True)
    BookFactory(title="By watched author", authors=[AuthorFactory(), watched_author])
    SeriesEntryFactory(book=BookFactory(title="In watched series", authors=[AuthorFactory()]), series=watched_series)
    SeriesEntryFactory(book=BookFactory(title="Unwatched", authors=[AuthorFactory()]))

    assert titles(viewer_client, monitored="true") == ["By watched author", "In watched series"]
    assert titles(viewer_client, monitored="false") == ["Unwatched"]


def test_filters_combine(viewer_client):
    author = AuthorFactory()
    BookFactory(title="Match", authors=[author], format="mp3")
    BookFactory(title="Wrong format", authors=[author], format="m4b")
    BookFactory(title="Wrong author", format="mp3")

    assert titles(viewer_client, author=author.id, format="mp3") == ["Match"]


# --- search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("mistborn", ["The Final Empire"]),  # subtitle
        ("final", ["The Final Empire"]),  # title
        ("SANDERSON", ["The Final Empire"]),  # author
        ("cosmere", ["The Final Empire"]),  # series
        ("kramer", ["The Final Empire"]),  # narrator
        ("9780765311788", ["The Final Empire"]),  # isbn
        ("b002ubzs7m", ["The Final Empire"]),  # asin
        ("final sanderson", ["The Final Empire"]),  # every word must match somewhere
        ("final pratchett", []),
        ("nothing-like-it", []),
    ],
)
def test_search_looks_in_titles_people_series_and_identifiers(viewer_client, term, expected):
    book = BookFactory(
        title="The Final Empire",
        subtitle="Mistborn Book One",
        isbn="9780765311788",
        asin="B002UBZS7M",
        authors=[AuthorFactory(name="Brandon Sanderson")],
        narrators=[NarratorFactory(name="Michael Kramer")],
    )
    SeriesEntryFactory(book=book, series=SeriesFactory(name="Cosmere"))
    BookFactory(title="Guards! Guards!", authors=[AuthorFactory(name="Terry Pratchett")])

    assert titles(viewer_client, search=term) == expected


def test_search_lists_a_book_once_when_several_relations_match(viewer_client):
    BookFactory(
        title="Anthology",
        authors=[AuthorFactory(name="Ann Smith"), AuthorFactory(name="Bob Smith")],
        narrators=[NarratorFactory(name="Cy Smith"), NarratorFactory(name="Di Smith")],
    )

    body = viewer_client.get(URL, {"search": "smith"}).json()

    assert body["count"] == 1
    assert [b["title"] for b in body["results"]] == ["Anthology"]


def test_search_combines_with_filters(viewer_client):
    BookFactory(title="Dune", format="mp3")
    BookFactory(title="Dune Messiah", format="m4b")

    assert titles(viewer_client, search="dune", format="m4b") == ["Dune Messiah"]


# --- ordering --------------------------------------------------------------------------------


def test_default_order_is_title_then_id(viewer_client):
    second_same = BookFactory(title="Same")
    BookFactory(title="Alpha")
    first_same = Book.objects.get(pk=second_same.pk)
    third = BookFactory(title="Same")

    ids = [b["id"] for b in viewer_client.get(URL).json()["results"]]

    assert ids[1:] == [first_same.id, third.id]


def test_it_orders_by_title_both_ways(viewer_client):
    for title in ["Beta", "Alpha", "Gamma"]:
        BookFactory(title=title)

    assert titles(viewer_client, ordering="title") == ["Alpha", "Beta", "Gamma"]
    assert titles(viewer_client, ordering="-title") == ["Gamma", "Beta", "Alpha"]


def test_it_orders_by_date_added(viewer_client):
    for title, year in [("Middle", 2022), ("Oldest", 2020), ("Newest", 2024)]:
        added_on(BookFactory(title=title), datetime(year, 1, 1, tzinfo=UTC))

    assert titles(viewer_client, ordering="date_added") == ["Oldest", "Middle", "Newest"]
    assert titles(viewer_client, ordering="-date_added") == ["Newest", "Middle", "Oldest"]


def test_it_orders_by_completeness(viewer_client):
    for title, completeness in [("Half", 50), ("Full", 100), ("Bare", 10)]:
        Book.objects.filter(pk=BookFactory(title=title).pk).update(metadata_completeness=completeness)

    assert titles(viewer_client, ordering="completeness") == ["Bare", "Half", "Full"]
    assert titles(viewer_client, ordering="-completeness") == ["Full", "Half", "Bare"]


def test_it_orders_by_year_and_duration_with_unknowns_last(viewer_client):
    BookFactory(title="Unknown")
    BookFactory(title="Early", published_year=1950, duration_seconds=500)
    BookFactory(title="Late", published_year=2020, duration_seconds=100)

    assert titles(viewer_client, ordering="published_year") == ["Early", "Late", "Unknown"]
    assert titles(viewer_client, ordering="-published_year") == ["Late", "Early", "Unknown"]
    assert titles(viewer_client, ordering="duration") == ["Late", "Early", "Unknown"]
    assert titles(viewer_client, ordering="-duration") == ["Early", "Late", "Unknown"]


def test_it_orders_by_several_keys(viewer_client):
    BookFactory(title="B", published_year=2000)
    BookFactory(title="A", published_year=2000)
    BookFactory(title="C", published_year=1990)

    assert titles(viewer_client, ordering="-published_year,title") == ["A", "B", "C"]


@pytest.mark.parametrize("value", ["metadata_completeness", "id", "author", "-nope", "title;drop"])
def test_an_ordering_outside_the_allow_list_is_rejected(viewer_client, value):
    BookFactory()

    assert error_locs(viewer_client.get(URL, {"ordering": value})) == [["query", "ordering"]]


def test_a_trailing_comma_in_ordering_is_ignored(viewer_client):
    response = viewer_client.get("/api/v1/books/", {"ordering": "title,"})
    assert response.status_code == 200
