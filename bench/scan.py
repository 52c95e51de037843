"""Folder-scan bench (SPEC §12): first scan and unchanged re-scan against a bare mutagen walk.

    python -m bench.scan [--files 5000] [--keep DIR]

Generates a library of small but real audio files in a temporary folder (single-file m4b
books and ten-file mp3 books, tagged the way taggers do), migrates a throw-away SQLite
database, then measures:

* bare walk: ``os.walk`` plus ``mutagen.File`` and its tags for every audio file — the floor;
* first scan: the ``library_scan`` job on an empty library;
* re-scan: the same job again with nothing changed.

Prints a table and merges its numbers under ``"scan"`` → ``"sqlite"`` (or ``"postgresql"`` with
``--database-url``) in ``bench/results.json``.
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
MP3_FILES_PER_BOOK = 10
M4B_SHARE = 0.3  # of the files; the rest are ten-file mp3 books


def _setup_django(workdir: Path, library: Path, database_url: str | None = None) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "mamcrawler.settings"
    os.environ["DATA_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["LIBRARY_ROOT"] = str(library)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DEBUG"] = "false"  # as in production: no query log in memory
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def generate(library: Path, files: int) -> dict:
    """Write about ``files`` audio files; returns how many books, authors and series they make."""
    from tests.library.audio import write_mp3, write_mp4

    m4b_books = round(files * M4B_SHARE)
    mp3_books = max(1, (files - m4b_books) // MP3_FILES_PER_BOOK)
    books = m4b_books + mp3_books
    authors = max(1, books // 5)
    series = max(1, books // 4)
    written = 0
    for index in range(books):
        # Each series belongs to one author; an author writes several series.
        series_name = f"Saga {index % series:04d}"
        author = f"Author {index % series % authors:04d}"
        position = index // series + 1
        title = f"Title {index:05d}"
        folder = library / author / series_name
        narrators = f"Narrator {index % 97:02d}, Reader {index % 89:02d}"
        if index < m4b_books:
            write_mp4(
                folder / f"{position:02d} - {title}.m4b",
                seconds=3600 + index,
                tags={
                    "©alb": title,
                    "©nam": title,
                    "©ART": author,
                    "aART": author,
                    "©wrt": narrators,
                    "©mvn": series_name,
                    "©mvi": position,
                    "©day": "2015",
                    "----:com.apple.iTunes:ASIN": f"B{index:09d}",
                },
            )
            written += 1
            continue
        for track in range(1, MP3_FILES_PER_BOOK + 1):
            write_mp3(
                folder / f"{position:02d} - {title}" / f"{track:02d}.mp3",
                seconds=600,
                tags={
                    "TALB": title,
                    "TIT2": f"Chapter {track}",
                    "TPE1": author,
                    "TPE2": author,
                    "TCOM": narrators,
                    "TRCK": str(track),
                    "TXXX:SERIES": series_name,
                    "TXXX:SERIES-PART": str(position),
                    "TDRC": "2015",
                },
            )
            written += 1
    return {"files": written, "books": books, "authors": authors, "series": series}


def bare_walk(library: Path) -> int:
    """The floor: visit every audio file and read its stream info and tags with mutagen."""
    import mutagen

    from library.scanning.tags import AUDIO_EXTENSIONS

    count = 0
    for folder, _dirs, names in os.walk(library):
        for name in names:
            if os.path.splitext(name)[1][1:].lower() in AUDIO_EXTENSIONS:
                audio = mutagen.File(os.path.join(folder, name))
                _ = audio.info.length, dict(audio.tags or {})
                count += 1
    return count


def _timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def _scan():
    from scheduler.choices import RunStatus, Trigger
    from scheduler.runner import job_run_now

    run = job_run_now(name="library_scan", trigger=Trigger.COMMAND)
    if run.status != RunStatus.SUCCEEDED:
        raise SystemExit(f"library_scan {run.status}: {run.error}")
    return run.summary


def _empty_library() -> None:
    from library.models import Author, Book, Narrator, Series

    for model in (Book, Series, Author, Narrator):
        model.objects.all().delete()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000, help="Audio files to generate (default 5000).")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per measurement; the best counts (default 3).")
    parser.add_argument("--keep", type=Path, help="Generate into this folder and keep it (default: a temp dir).")
    parser.add_argument(
        "--database-url",
        help="A scratch database to use instead of a temporary SQLite file (its library tables are emptied).",
    )
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="mamcrawler-bench-scan-"))
    try:
        return _run(args, workdir, args.keep or workdir / "library")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(args, workdir: Path, library: Path) -> dict:
    _setup_django(workdir, library, args.database_url)
    from django.db import connection

    _empty_library()
    started = time.perf_counter()
    shape = generate(library, args.files)
    generated = time.perf_counter() - started
    files = shape["files"]
    print(f"Generated {files} files ({shape['books']} books) in {generated:.1f}s under {library}", flush=True)

    bare_walk(library)  # warm the page cache so every measurement reads from memory
    bare = min(_timed(bare_walk, library)[0] for _ in range(args.repeat))
    first_times, rescan_times = [], []
    summary = {}
    for attempt in range(args.repeat):
        if attempt:
            _empty_library()
        elapsed, summary = _timed(_scan)
        first_times.append(elapsed)
    assert summary["created"] == shape["books"], summary
    for _ in range(args.repeat):
        elapsed, again = _timed(_scan)
        rescan_times.append(elapsed)
        assert again["unchanged"] == shape["books"] and not again["files_read"], again
    first, rescan = min(first_times), min(rescan_times)
    result = {
        **shape,
        "database": connection.vendor,
        "bare_walk_seconds": round(bare, 3),
        "first_scan_seconds": round(first, 3),
        "rescan_seconds": round(rescan, 3),
        "bare_walk_files_per_second": round(files / bare),
        "first_scan_files_per_second": round(files / first),
        "rescan_files_per_second": round(files / rescan),
        "first_scan_to_bare_walk": round(first / bare, 2),
        "first_scan_to_rescan": round(first / rescan, 1),
        "targets": {"first_scan_to_bare_walk": "<= 1.5", "first_scan_to_rescan": ">= 10"},
    }
    _print(result)
    _save(result)
    return result


def _print(result: dict) -> None:
    rows = [
        ("bare mutagen walk", result["bare_walk_seconds"], result["bare_walk_files_per_second"], ""),
        (
            "first scan",
            result["first_scan_seconds"],
            result["first_scan_files_per_second"],
            f"{result['first_scan_to_bare_walk']}x the bare walk (target <= 1.5x)",
        ),
        (
            "unchanged re-scan",
            result["rescan_seconds"],
            result["rescan_files_per_second"],
            f"{result['first_scan_to_rescan']}x faster than the first scan (target >= 10x)",
        ),
    ]
    print(f"\nFolder scan: {result['files']} files, {result['books']} books ({result['database']})")
    print(f"{'measurement':<20} {'seconds':>9} {'files/s':>9}  note")
    for name, seconds, rate, note in rows:
        print(f"{name:<20} {seconds:>9.3f} {rate:>9}  {note}")


def _save(result: dict) -> None:
    try:
        results = json.loads(RESULTS.read_text())
    except (FileNotFoundError, ValueError):
        results = {}
    section = results.get("scan") if isinstance(results.get("scan"), dict) else {}
    section = {key: value for key, value in section.items() if key in ("sqlite", "postgresql")}
    section[result["database"]] = result
    results["scan"] = section
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nWrote {RESULTS.relative_to(ROOT)} (key 'scan.{result['database']}').")


if __name__ == "__main__":
    main()
