"""A small library that uses every field the import/export carries, and a canonical dump of it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from library.models import Author, Book, Narrator, Series
from library.services.authors import author_update
from library.services.books import book_create, book_lock_fields, series_ref
from library.services.series import series_update

AUTHOR_SECTION_FIELDS = (
    "monitored",
    "books_known",
    "openlibrary_id",
    "hardcover_id",
    "google_id",
    "audible_asin",
    "mam_id",
    "books_missing",
    "completion_percentage",
    "completion_status",
)
SERIES_SECTION_FIELDS = (*AUTHOR_SECTION_FIELDS[:1], "total_known", *AUTHOR_SECTION_FIELDS[2:])


def build_library() -> dict[str, Book]:
    """Two authors, a series with positions 1, 2.5 and 3-4, narrators, ISBN/ASIN, locked fields,
    a second copy sharing an ISBN, a book without people, and text that CSV must quote."""
    stormlight = "The Stormlight Archive"
    books = {
        "way": book_create(
            fields={
                "title": "The Way of Kings",
                "subtitle": "Book One of the Stormlight Archive",
                "isbn": "9780765326355",
                "asin": "B003P2WO5E",
                "publisher": "Macmillan Audio",
                "published_year": 2010,
                "published_date": date(2010, 8, 31),
                "language": "en",
                "description": "Roshar is a world of stone and storms.",
                "duration_seconds": 164_000,
                "format": "m4b",
                "bitrate_kbps": 64,
                "size_bytes": 5_000_000_000,
                "abs_id": "li_way",
            },
            authors=["Sanderson, Brandon"],
            narrators=["Michael Kramer", "Kate Reading"],
            series=[series_ref(stormlight, "1")],
        ),
        "edgedancer": book_create(
            fields={
                "title": "Edgedancer",
                "asin": "B0752VKV2B",
                "abridged": True,
                "format": "mp3",
                "published_year": 2016,
            },
            authors=["Brandon Sanderson", "Mary Robinette Kowal"],
            narrators=["Kate Reading"],
            series=[series_ref(stormlight, "2.5")],
        ),
        "omnibus": book_create(
            fields={"title": "Words of Radiance & Oathbringer", "isbn": "9780765326362", "status": "archived"},
            authors=["Brandon Sanderson"],
            narrators=["Michael Kramer", "Kate Reading"],
            series=[series_ref(stormlight, "3-4")],
        ),
        "stars": book_create(
            fields={
                "title": "The Calculating Stars",
                "description": 'Line one,\nline "two" | with a pipe, #hash; ünïcödé\r\nand a CRLF',
                "language": "en-US",
                "abs_id": "li_stars",
            },
            authors=["Mary Robinette Kowal"],
            narrators=["Mary Robinette Kowal"],
            series=[series_ref("Lady Astronaut", "1")],
        ),
        "copy": book_create(
            fields={"title": "The Way of Kings", "isbn": "9780765326355", "format": "mp3", "status": "duplicate"},
            authors=["Brandon Sanderson"],
        ),
        "anonymous": book_create(fields={"title": "  Sagas of Unknown Hands  "}),
    }
    book_lock_fields(books=[books["way"]], fields=["title", "isbn", "series"])
    book_lock_fields(books=[books["stars"]], fields=["description"])
    sanderson = Author.objects.get(name="Brandon Sanderson")
    author_update(
        author=sanderson, monitored=True, books_known=12, openlibrary_id="OL1394865A", audible_asin="B001IGFHW6"
    )
    author_update(author=Author.objects.get(name="Mary Robinette Kowal"), hardcover_id="mary-robinette-kowal")
    series_update(
        series=Series.objects.get(name=stormlight), total_known=10, monitored=True, hardcover_id="stormlight-archive"
    )
    Book.objects.filter(pk=books["stars"].pk).update(
        metadata_sources={"title": {"source": "openlibrary", "at": "2025-01-02T03:04:05Z"}}
    )
    for day, book in enumerate(books.values(), 1):
        Book.objects.filter(pk=book.pk).update(date_added=datetime(2025, 1, day, 12, 30, 15, 123456, tzinfo=UTC))
    return books


def wipe_library() -> None:
    Book.objects.all().delete()
    Series.objects.all().delete()
    Author.objects.all().delete()
    Narrator.objects.all().delete()


def _row(instance, exclude=()) -> dict:
    skip = {"id", "created_at", "updated_at", *exclude}
    return {f.name: getattr(instance, f.attname) for f in instance._meta.concrete_fields if f.name not in skip}


def library_dump(*, sections: bool = True) -> dict:
    """Everything the library holds except ids and write times; foreign keys become names.

    ``sections=False`` leaves out what only the JSON file's author and series sections carry.
    """
    author_skip = () if sections else AUTHOR_SECTION_FIELDS
    series_skip = () if sections else SERIES_SECTION_FIELDS

    def author_name(author_id):
        return Author.objects.get(pk=author_id).name if author_id else None

    books = []
    for book in Book.objects.all():
        row = _row(book)
        row["authors"] = [link.author.name for link in book.book_authors.order_by("position")]
        row["narrators"] = sorted(narrator.name for narrator in book.narrators.all())
        row["series"] = sorted(
            (
                entry.series.name,
                author_name(entry.series.primary_author_id),
                entry.position,
                entry.position_end,
                entry.position_label,
            )
            for entry in book.series_entries.all()
        )
        books.append(row)
    series = []
    for item in Series.objects.all():
        row = _row(item, exclude=("primary_author", *series_skip))
        row["primary_author"] = author_name(item.primary_author_id)
        row["authors"] = sorted(author.name for author in item.authors.all())
        series.append(row)
    return {
        "books": sorted(books, key=lambda row: (row["title"], row["status"], row["abs_id"] or "")),
        "authors": sorted((_row(author, exclude=author_skip) for author in Author.objects.all()), key=str),
        "series": sorted(series, key=str),
        "narrators": sorted(Narrator.objects.values_list("name", flat=True)),
    }
