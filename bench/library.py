"""The SPEC §12 library for the API benches: 10,000 books, 2,000 authors, 1,500 series.

    python -m bench.library [--database sqlite|postgresql] [--books 10000]

``generate()`` writes the library with ``bulk_create`` in batches (a few seconds): authors,
narrators, series (each with a primary author), books with realistic scalar fields, one or
two authors and narrators per book, series entries (70 % of the books; some omnibus ranges,
fractional novellas, a few books in two series) and one to three audio files per book.

``bench_database()`` gives the benches a database of their own: a SQLite file in a temporary
folder, or a fresh PostgreSQL database created on the server named by ``BENCH_POSTGRES_URL``
(default ``postgres://postgres@127.0.0.1:5432/postgres``) and dropped afterwards. Run alone,
this module generates the library once and prints how long it took.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BATCH = 1000
SHAPE = {"books": 10_000, "authors": 2_000, "series": 1_500, "narrators": 800}


class NoServer(Exception):
    """The PostgreSQL server named by ``BENCH_POSTGRES_URL`` does not answer."""


@contextlib.contextmanager
def bench_database(vendor: str) -> Iterator[tuple[str, Path]]:
    """``(DATABASE_URL, workdir)`` of a throw-away database; removed (dropped) on exit."""
    workdir = Path(tempfile.mkdtemp(prefix=f"mamcrawler-bench-{vendor}-"))
    try:
        if vendor == "sqlite":
            yield f"sqlite:///{workdir / 'bench.sqlite3'}", workdir
            return
        with _postgres_database() as url:
            yield url, workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def _postgres_database() -> Iterator[str]:
    import psycopg

    name = f"mamcrawler_bench_{os.getpid()}"
    try:
        admin = psycopg.connect(_libpq(POSTGRES_URL), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        raise NoServer(f"no PostgreSQL server answers at {POSTGRES_URL} ({str(exc).strip()})") from exc
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            from django.db import connections

            connections.close_all()
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def setup_django(database_url: str, workdir: Path, *, settings_module: str = "bench.settings") -> None:
    """Point Django at ``database_url``, set up and migrate (production-like: DEBUG off)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    os.environ["DATA_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DEBUG"] = "false"  # as in production: no query log in memory
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def generate(*, books: int = SHAPE["books"], scale_people: bool = True) -> dict:
    """Write the library; returns the row counts. ``books`` smaller than 10,000 scales the rest."""
    from django.db import connection, transaction

    from library import naming
    from library.models import Author, Book, BookAuthor, BookFile, Narrator, Series, SeriesEntry, completeness_score

    ratio = books / SHAPE["books"] if scale_people else 1
    n_authors = max(2, round(SHAPE["authors"] * ratio))
    n_series = max(2, round(SHAPE["series"] * ratio))
    n_narrators = max(2, round(SHAPE["narrators"] * ratio))
    with transaction.atomic():
        authors = [
            Author(
                name=f"Author{index:05d} Writer",
                name_key=naming.name_key(f"Author{index:05d} Writer"),
                sort_name=f"Writer, Author{index:05d}",
                monitored=index % 4 == 0,
            )
            for index in range(n_authors)
        ]
        Author.objects.bulk_create(authors, batch_size=BATCH)
        narrators = [
            Narrator(name=f"Narrator{index:04d} Voice", name_key=naming.name_key(f"Narrator{index:04d} Voice"))
            for index in range(n_narrators)
        ]
        Narrator.objects.bulk_create(narrators, batch_size=BATCH)
        series = [
            Series(
                name=f"Saga {index:04d}",
                name_key=naming.name_key(f"Saga {index:04d}"),
                primary_author=authors[index % n_authors],
                monitored=index % 3 == 0,
            )
            for index in range(n_series)
        ]
        Series.objects.bulk_create(series, batch_size=BATCH)
        Series.authors.through.objects.bulk_create(
            [Series.authors.through(series_id=row.id, author_id=row.primary_author_id) for row in series],
            batch_size=BATCH,
        )

        plan = [_book_plan(index, n_authors, n_narrators, n_series) for index in range(books)]
        rows = []
        for item in plan:
            book = Book(**item["fields"])
            book.metadata_completeness = completeness_score(
                book, authors=True, narrators=bool(item["narrators"]), positions=[e[1] for e in item["series"]]
            )
            rows.append(book)
        Book.objects.bulk_create(rows, batch_size=BATCH)
        BookAuthor.objects.bulk_create(
            [
                BookAuthor(book_id=book.id, author_id=authors[author].id, position=position)
                for book, item in zip(rows, plan, strict=True)
                for position, author in enumerate(item["authors"])
            ],
            batch_size=BATCH,
        )
        Book.narrators.through.objects.bulk_create(
            [
                Book.narrators.through(book_id=book.id, narrator_id=narrators[narrator].id)
                for book, item in zip(rows, plan, strict=True)
                for narrator in item["narrators"]
            ],
            batch_size=BATCH,
        )
        SeriesEntry.objects.bulk_create(
            [
                SeriesEntry(
                    book_id=book.id, series_id=series[saga].id, position=start, position_end=end, position_label=label
                )
                for book, item in zip(rows, plan, strict=True)
                for saga, start, end, label in item["series"]
            ],
            batch_size=BATCH,
        )
        BookFile.objects.bulk_create(
            [
                BookFile(
                    book_id=book.id,
                    path=f"/library/{book.id:06d}/{track:02d}.{book.format}",
                    size_bytes=(book.size_bytes or 0) // item["files"],
                    mtime=1_700_000_000.0 + book.id,
                    format=book.format,
                    duration_seconds=float((book.duration_seconds or 0) // item["files"]),
                    bitrate_kbps=book.bitrate_kbps,
                    codec="aac" if book.format == "m4b" else "mp3",
                )
                for book, item in zip(rows, plan, strict=True)
                for track in range(1, item["files"] + 1)
            ],
            batch_size=BATCH,
        )
    with connection.cursor() as cursor:
        # Planner statistics, as a live database has them (autovacuum on PostgreSQL); without
        # them PostgreSQL scans whole tables for the page's relations.
        cursor.execute("ANALYZE")
    return {
        "books": Book.objects.count(),
        "authors": Author.objects.count(),
        "series": Series.objects.count(),
        "narrators": Narrator.objects.count(),
        "book_authors": BookAuthor.objects.count(),
        "series_entries": SeriesEntry.objects.count(),
        "files": BookFile.objects.count(),
    }


def _book_plan(index: int, n_authors: int, n_narrators: int, n_series: int) -> dict:
    """Deterministic fields and relations of book ``index`` (no randomness: runs compare)."""
    from datetime import date

    fmt = "m4b" if index % 3 else "mp3"
    duration = 3600 * (4 + index % 20) + index % 3600
    bitrate = 64 if fmt == "m4b" else 128
    fields = {
        # Titles repeat across authors ("The Lost City 0042" by two writers), as in real libraries.
        "title": f"{('The Lost', 'A Quiet', 'Beyond the', 'Children of')[index % 4]} City {index % 7000:04d}",
        "subtitle": "A Novel" if index % 5 == 0 else "",
        "isbn": f"978{index:010d}" if index % 2 == 0 else "",
        "asin": f"B{index:09d}" if index % 3 else "",
        "publisher": f"Publisher {index % 40:02d}",
        "published_year": 1990 + index % 35 if index % 10 else None,
        "published_date": date(1990 + index % 35, 1 + index % 12, 1 + index % 28) if index % 4 == 0 else None,
        "language": ("en", "en", "en", "de", "fr")[index % 5],
        "description": f"Book {index} of the generated library. " * (3 + index % 5),
        "duration_seconds": duration,
        "abridged": index % 17 == 0,
        "format": fmt,
        "bitrate_kbps": bitrate,
        "size_bytes": duration * bitrate * 125,
        "abs_id": f"abs-{index:06d}" if index % 2 else None,
        "status": "archived" if index % 50 == 0 else "active",
        "metadata_sources": {"title": {"source": "scan", "at": "2025-01-01T00:00:00Z"}} if index % 2 else {},
        "locked_fields": ["title"] if index % 25 == 0 else [],
    }
    authors = [index % n_authors]
    if index % 6 == 0:
        authors.append((index * 7 + 1) % n_authors)
    narrators = [] if index % 11 == 0 else [index % n_narrators]
    if index % 4 == 0 and narrators:
        narrators.append((index * 3 + 1) % n_narrators)
    series = []
    if index % 10 < 7:  # 70 % of the books belong to a series
        saga = index % n_series
        number = index // n_series + 1
        if index % 29 == 0:
            series.append((saga, Decimal(number), Decimal(number + 1), f"{number}-{number + 1}"))
        elif index % 31 == 0:
            series.append((saga, Decimal(number) + Decimal("0.5"), None, f"{number}.5"))
        else:
            series.append((saga, Decimal(number), None, str(number)))
        if index % 13 == 0:  # also in a second series, place unknown
            series.append(((saga + 1) % n_series, None, None, ""))
    return {
        "fields": fields,
        "authors": list(dict.fromkeys(authors)),
        "narrators": list(dict.fromkeys(narrators)),
        "series": series,
        "files": 1 + index % 3,
    }


def generate_activity(*, rows: int = 40) -> dict:
    """Enough gaps, downloads, corrections and job runs for every list to show a page of 30.

    Gaps go to the author with the most books and the series with the most entries (the
    objects ``bench.queries`` lists nested routes for); corrections to the first book.
    Run after the load test: the books page it measures does not depend on these rows.
    """
    from datetime import timedelta

    from django.db.models import Count
    from django.utils import timezone

    from downloads.models import Download
    from library.models import Author, Book, MissingBook, Series
    from library.models_metadata import MetadataCorrection
    from scheduler.models import JobRun

    now = timezone.now()
    author = Author.objects.annotate(n=Count("book_links")).order_by("-n", "id").first()
    series = Series.objects.annotate(n=Count("entries")).order_by("-n", "id").first()
    gaps = [
        MissingBook(
            title=f"Missing {series.name} {100 + index}",
            title_key=f"missing {series.name.lower()} {100 + index}",
            primary_author_id=series.primary_author_id,
            series=series,
            position=Decimal(100 + index),
            position_label=str(100 + index),
            reason="series_gap",
            status=("identified", "wanted")[index % 2],
            last_seen=now,
        )
        for index in range(rows)
    ] + [
        MissingBook(
            title=f"Unowned Work {index:03d}",
            title_key=f"unowned work {index:03d}",
            primary_author=author,
            reason="author_gap",
            status="wanted",
            last_seen=now,
        )
        for index in range(rows)
    ]
    MissingBook.objects.bulk_create(gaps, batch_size=BATCH)
    MissingBook.authors.through.objects.bulk_create(
        [MissingBook.authors.through(missingbook_id=gap.id, author_id=gap.primary_author_id) for gap in gaps],
        batch_size=BATCH,
    )
    statuses = ("queued", "downloading", "failed")
    Download.objects.bulk_create(
        [
            Download(
                title=f"Download {index}",
                author=author.name,
                info_hash=f"{index:040x}",
                status=statuses[index % 3],
                next_retry_at=now - timedelta(minutes=1) if statuses[index % 3] == "failed" else None,
                missing_book=gaps[index] if index < len(gaps) else None,
            )
            for index in range(3 * rows)
        ],
        batch_size=BATCH,
    )
    book = Book.objects.order_by("id").first()
    MetadataCorrection.objects.bulk_create(
        [
            MetadataCorrection(
                book=book, field="publisher", old_value=f"P{index}", new_value=f"P{index + 1}", source="hardcover"
            )
            for index in range(rows)
        ]
    )
    JobRun.objects.bulk_create(
        [JobRun(job="gap_analysis", trigger="schedule", status="succeeded", finished_at=now) for _ in range(rows)]
    )
    return {"gaps": len(gaps), "downloads": 3 * rows, "corrections": rows, "job_runs": rows}


def bench_api_key(*, username: str = "bench") -> str:
    """A viewer with a ``read`` API key in the bench database; returns the secret."""
    from mamcrawler.accounts.models import User
    from mamcrawler.accounts.services import api_key_create

    user, _ = User.objects.get_or_create(username=username, defaults={"role": "viewer"})
    _key, secret = api_key_create(user=user, name="bench", scopes=["read"])
    return secret


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--books", type=int, default=SHAPE["books"])
    args = parser.parse_args(argv)
    with bench_database(args.database) as (url, workdir):
        setup_django(url, workdir)
        started = time.perf_counter()
        counts = generate(books=args.books)
        elapsed = time.perf_counter() - started
    print(f"Generated on {args.database} in {elapsed:.1f}s: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return {**counts, "seconds": round(elapsed, 2)}


if __name__ == "__main__":
    main()
