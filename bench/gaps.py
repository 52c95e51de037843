"""Gap-analysis bench (SPEC §12): full analysis with cached provider answers, at 1k, 5k and 10k books.

    python -m bench.gaps [--sizes 1000,5000,10000] [--repeat 2] [--database-url URL]

For each size, generates a library straight into a throw-away SQLite database (bulk inserts:
books / 5 authors, all monitored; 15 % as many series as books, one author each, with
omnibus entries, novellas and holes; 30 % of the books outside any series), then fills the
**ProviderCache** with what Hardcover would answer for every series and every author (in
Hardcover's GraphQL shape, fresh, so the real ``library.providers.registry`` answers from
the cache and never touches the network), and measures:

* first run: the ``gap_analysis`` job with ``full=true`` on a library without gaps;
* re-run: the same again, every gap already known (the update path).

Prints a table and merges its numbers under ``"gaps"`` → ``"sqlite"`` (or ``"postgresql"``
with ``--database-url``) in ``bench/results.json``.  Target: the 10k first run ≤ 10 s, and
seconds per 1,000 books about the same at every size (linear).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
SERIES_SHARE = 0.15  # series per book: 1,500 series for 10,000 books
AUTHOR_SHARE = 0.2  # authors per book: 2,000 authors for 10,000 books
STANDALONE_SHARE = 0.3  # books in no series
TARGET_SECONDS = 10.0


def _setup_django(workdir: Path, database_url: str | None = None) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "mamcrawler.settings"
    os.environ["DATA_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DEBUG"] = "false"  # as in production: no query log in memory
    # One provider, answered from ProviderCache only; its URL would refuse connections.
    os.environ["METADATA_PROVIDERS"] = "hardcover"
    os.environ["HARDCOVER_URL"] = "http://127.0.0.1:9/v1/graphql"
    os.environ["HARDCOVER_TOKEN"] = "bench-token"
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def _plan(books: int) -> dict:
    """Who wrote what: series with their owned labels and provider positions, standalone books."""
    authors = max(1, round(books * AUTHOR_SHARE))
    series_count = max(1, round(books * SERIES_SHARE))
    in_series = books - round(books * STANDALONE_SHARE)
    series = []
    placed = 0
    for index in range(series_count):
        # Spread the series books evenly; each series owns a prefix with holes and an omnibus.
        owned_count = (in_series * (index + 1)) // series_count - (in_series * index) // series_count
        labels = []
        number = 1
        while len(labels) < owned_count:
            if index % 3 == 0 and number == 4 and owned_count - len(labels) >= 2:
                labels.append("4-5")  # an omnibus owns 4 and 5
                number = 6
                continue
            if index % 4 == 1 and number % 3 == 0:
                number += 1  # a hole the providers know about
            labels.append(str(number))
            number += 1
        known = list(range(1, number + 2))  # providers know two more than the highest owned
        series.append(
            {
                "name": f"Saga {index:05d}",
                "author": index % authors,
                "owned": labels,
                "known": known,
                "novella": index % 5 == 0,  # a 1.5 nobody owns
                "unreleased": index % 7 == 0,  # the last known one comes out next year
            }
        )
        placed += len(labels)
    standalone = [{"title": f"Standalone {number:06d}", "author": number % authors} for number in range(books - placed)]
    return {"authors": authors, "series": series, "standalone": standalone, "books": books}


def generate(books: int) -> dict:
    """Write the library for ``books`` books and its provider cache; returns its shape."""
    from django.utils import timezone

    from library import naming
    from library.models import Author, Book, BookAuthor, ProviderCache, Series, SeriesEntry
    from library.positions import parse_position
    from library.providers.parsing import request_key

    plan = _plan(books)
    authors = [
        Author(
            name=f"Writer Number{index:05d}",
            name_key=naming.name_key(f"Writer Number{index:05d}"),
            sort_name=f"Number{index:05d}, Writer",
            monitored=True,
        )
        for index in range(plan["authors"])
    ]
    Author.objects.bulk_create(authors, batch_size=1000)
    series_rows = [
        Series(name=item["name"], name_key=naming.name_key(item["name"]), primary_author=authors[item["author"]])
        for item in plan["series"]
    ]
    Series.objects.bulk_create(series_rows, batch_size=1000)
    Series.authors.through.objects.bulk_create(
        [Series.authors.through(series_id=row.id, author_id=row.primary_author_id) for row in series_rows],
        batch_size=1000,
    )
    book_rows, links, entries = [], [], []
    for item, row in zip(plan["series"], series_rows, strict=True):
        for label in item["owned"]:
            book_rows.append(Book(title=f"{item['name']} Book {label}", language="en", format="m4b"))
            position = parse_position(label)
            links.append(item["author"])
            entries.append((row.id, position))
    for item in plan["standalone"]:
        # Some owned titles carry edition noise, as audiobook titles do.
        suffix = " (Unabridged)" if int(item["title"][-6:]) % 3 == 0 else ""
        book_rows.append(Book(title=item["title"] + suffix, language="en", format="m4b"))
        links.append(item["author"])
        entries.append(None)
    Book.objects.bulk_create(book_rows, batch_size=1000)
    BookAuthor.objects.bulk_create(
        [
            BookAuthor(book_id=book.id, author_id=authors[author].id)
            for book, author in zip(book_rows, links, strict=True)
        ],
        batch_size=1000,
    )
    SeriesEntry.objects.bulk_create(
        [
            SeriesEntry(
                book_id=book.id,
                series_id=entry[0],
                position=entry[1].start,
                position_end=entry[1].end,
                position_label=entry[1].label,
            )
            for book, entry in zip(book_rows, entries, strict=True)
            if entry is not None
        ],
        batch_size=1000,
    )
    now = timezone.now()
    cache = []
    author_books: dict[int, list[dict]] = {index: [] for index in range(plan["authors"])}
    for index, item in enumerate(plan["series"]):
        writer = authors[item["author"]].name
        members = []
        for number in item["known"]:
            unreleased = item["unreleased"] and number == item["known"][-1]
            title = f"{item['name']} Book {number}"
            members.append(_hc_entry(index * 1000 + number, title, number, writer, unreleased))
        if item["novella"]:
            members.append(_hc_entry(index * 1000 + 999, f"{item['name']} Novella", "1.5", writer, False))
        payload = {"series": [{"id": index, "name": item["name"], "books_count": len(members), "book_series": members}]}
        cache.append(_cache_row(request_key("series", item["name"], writer), payload, now))
        for entry in members:
            book = dict(entry["book"])
            book["book_series"] = [{"position": entry["position"], "series": {"name": item["name"]}}]
            author_books[item["author"]].append({"book": book})
    for number, item in enumerate(plan["standalone"]):
        book = {"id": 10**7 + number, "title": item["title"], "release_date": "2015-05-01"}
        author_books[item["author"]].append({"book": book})
    for index in range(plan["authors"]):
        # Two books per author that nobody owns: author gaps.
        for extra in range(2):
            title = f"Unowned Work {index:05d}-{extra}"
            author_books[index].append({"book": {"id": 2 * 10**7 + index * 2 + extra, "title": title}})
        writer = authors[index].name
        payload = {"authors": [{"id": index, "name": writer, "contributions": author_books[index]}]}
        cache.append(_cache_row(request_key("author", writer), payload, now))
    ProviderCache.objects.bulk_create(cache, batch_size=500)
    return {
        "books": len(book_rows),
        "authors": plan["authors"],
        "series": len(series_rows),
        "known_series_members": sum(len(item["known"]) + item["novella"] for item in plan["series"]),
    }


def _hc_entry(book_id: int, title: str, position, writer: str, unreleased: bool) -> dict:
    from django.utils import timezone

    year = timezone.now().year + 1 if unreleased else 2015
    return {
        "position": position,
        "book": {
            "id": book_id,
            "title": title,
            "release_date": f"{year}-05-01",
            "contributions": [{"author": {"name": writer}}],
        },
    }


def _cache_row(key: str, payload: dict, now):
    from datetime import timedelta

    from library.models import ProviderCache

    return ProviderCache(
        provider="hardcover", key=key, payload=payload, status=200, fetched_at=now, expires_at=now + timedelta(days=30)
    )


def _empty() -> None:
    from library.models import Author, Book, MissingBook, ProviderCache, Series
    from scheduler.models import JobRun

    for model in (MissingBook, Book, Series, Author, ProviderCache, JobRun):
        model.objects.all().delete()


def _analyse() -> dict:
    from scheduler.choices import RunStatus, Trigger
    from scheduler.runner import job_run_now

    run = job_run_now(name="gap_analysis", trigger=Trigger.COMMAND, params={"full": True})
    if run.status != RunStatus.SUCCEEDED:
        raise SystemExit(f"gap_analysis {run.status}: {run.error}")
    return run.summary


def _timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def _measure(books: int, repeat: int) -> dict:
    from library.models import MissingBook

    first_times, rerun_times = [], []
    shape: dict = {}
    summary: dict = {}
    for _attempt in range(repeat):
        _empty()
        shape = generate(books)
        elapsed, summary = _timed(_analyse)
        first_times.append(elapsed)
        elapsed, again = _timed(_analyse)
        rerun_times.append(elapsed)
        assert again["gaps_new"] == 0, again
    assert not summary["degraded_providers"] and summary["providers_from_cache"] == ["hardcover"], summary
    first, rerun = min(first_times), min(rerun_times)
    return {
        **shape,
        "series_checked": summary["series_checked"],
        "authors_checked": summary["authors_checked"],
        "gaps": MissingBook.objects.count(),
        "series_gaps": summary["series_gaps"]["new"],
        "author_gaps": summary["author_gaps"]["new"],
        "first_run_seconds": round(first, 3),
        "rerun_seconds": round(rerun, 3),
        "first_run_seconds_per_1k_books": round(first / books * 1000, 3),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,10000", help="Library sizes in books (default 1000,5000,10000).")
    parser.add_argument("--repeat", type=int, default=2, help="Runs per size; the best counts (default 2).")
    parser.add_argument(
        "--database-url",
        help="A scratch database to use instead of a temporary SQLite file (its library tables are emptied).",
    )
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]

    workdir = Path(tempfile.mkdtemp(prefix="mamcrawler-bench-gaps-"))
    try:
        _setup_django(workdir, args.database_url)
        from django.db import connection

        rows = []
        for size in sizes:
            print(f"Generating and analysing {size} books…", flush=True)
            rows.append(_measure(size, args.repeat))
        _empty()
        largest = rows[-1]
        smallest = rows[0]
        result = {
            "database": connection.vendor,
            "provider_answers": "ProviderCache (hardcover payloads, fresh; the real registry, no network)",
            "sizes": rows,
            "largest_first_run_seconds": largest["first_run_seconds"],
            "growth_per_book_largest_to_smallest": round(
                largest["first_run_seconds_per_1k_books"] / smallest["first_run_seconds_per_1k_books"], 2
            ),
            "targets": {"largest_first_run_seconds": f"<= {TARGET_SECONDS:g}", "growth_per_book": "about 1 (linear)"},
        }
        _print(result)
        _save(result)
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _print(result: dict) -> None:
    print(f"\nGap analysis, full run, provider answers from ProviderCache ({result['database']})")
    header = (
        f"{'books':>7} {'authors':>7} {'series':>7} {'gaps':>7} {'first run s':>12} {'re-run s':>9} {'s per 1k':>9}"
    )
    print(header)
    for row in result["sizes"]:
        timings = f"{row['first_run_seconds']:>12.3f} {row['rerun_seconds']:>9.3f}"
        print(
            f"{row['books']:>7} {row['authors']:>7} {row['series']:>7} {row['gaps']:>7} "
            f"{timings} {row['first_run_seconds_per_1k_books']:>9.3f}"
        )
    print(
        f"largest first run {result['largest_first_run_seconds']:.3f}s (target <= {TARGET_SECONDS:g}s); "
        f"seconds per book, largest ÷ smallest: {result['growth_per_book_largest_to_smallest']} (1 = linear)"
    )


def _save(result: dict) -> None:
    try:
        results = json.loads(RESULTS.read_text())
    except (FileNotFoundError, ValueError):
        results = {}
    section = results.get("gaps") if isinstance(results.get("gaps"), dict) else {}
    section = {key: value for key, value in section.items() if key in ("sqlite", "postgresql")}
    section[result["database"]] = result
    results["gaps"] = section
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nWrote {RESULTS.relative_to(ROOT)} (key 'gaps.{result['database']}').")


if __name__ == "__main__":
    main()
