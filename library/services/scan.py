"""Folder scan (SPEC §9): the ``library_scan`` job turns the audio files under LIBRARY_ROOT into books.

The walk only calls ``stat``.  Files whose size and mtime match their BookFile row are not
opened, and their books are not queried: an unchanged library costs one query (the files on
record) and a cancellation check.  Changed and
new books have their tags read, then are written in batches (bulk inserts for new books;
``book_update`` for changed ones, which never touches locked fields or fields another source
set).  Books whose files all vanished are archived, never deleted.  Every unreadable file,
bad name or symlink out of the root is a line in the JobRun summary; none stops the run.
"""

from __future__ import annotations

import logging
import os
from collections import Counter, defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db import transaction

from library.choices import BookStatus
from library.models import Book, BookFile
from library.scanning.layout import guess_from_path
from library.scanning.metadata import BookFacts, book_facts, file_facts
from library.scanning.tags import UnreadableAudio, read_audio
from library.scanning.walker import BookGroup, PathOutsideRoot, resolve_inside, walk
from library.services.books import book_set_status
from library.services.scan_writes import ScanWriter

BATCH_BOOKS = 200
MAX_REPORTED_PROBLEMS = 100


class LibraryRootError(ValueError):
    """LIBRARY_ROOT is not usable, or a scan path is not inside it."""


class Known(NamedTuple):
    """A BookFile row as the scan needs it."""

    id: int
    book_id: int
    size: int
    mtime: float | None


@dataclass
class Work:
    """A book group that needs its tags read: a new book, or a change to ``book_id``."""

    group: BookGroup
    book_id: int | None = None
    # True when ``book_id`` owns some of these files (not a file-less book matched by title).
    from_files: bool = False
    facts: BookFacts | None = None
    unreadable: int = 0


class ScanReport:
    """Counts and problems of one scan; becomes the JobRun summary."""

    def __init__(self, job, *, root: str, start: str, dry_run: bool):
        self.job = job
        self.root, self.start, self.dry_run = root, start, dry_run
        self.counts: Counter = Counter()
        self.problems: list[dict] = []

    def problem(self, path: str, kind: str, message: str, *, error: bool = True) -> None:
        self.counts["errors" if error else "warnings"] += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append({"path": path, "kind": kind, "message": message, "error": error})
        self.job.log("%s %s: %s", kind, path, message, level=logging.ERROR if error else logging.WARNING)

    def summary(self) -> dict:
        counts = self.counts
        listed = len(self.problems)
        return {
            "root": self.root,
            "path": self.start,
            "dry_run": self.dry_run,
            "files": counts["files"],
            "files_read": counts["files_read"],
            "books": counts["books"],
            "created": counts["created"],
            "updated": counts["updated"],
            "unchanged": counts["unchanged"],
            "archived": counts["archived"],
            "restored": counts["restored"],
            "authors_created": counts["authors_created"],
            "narrators_created": counts["narrators_created"],
            "series_created": counts["series_created"],
            "errors": counts["errors"],
            "warnings": counts["warnings"],
            "problems": self.problems,
            "problems_not_listed": counts["errors"] + counts["warnings"] - listed,
        }


def library_root() -> str:
    """The absolute LIBRARY_ROOT; raises ``LibraryRootError`` when it is unset or not a folder."""
    root = settings.LIBRARY_ROOT
    if not root:
        raise LibraryRootError("LIBRARY_ROOT is not set.")
    if not os.path.isdir(root):
        raise LibraryRootError(f"LIBRARY_ROOT {root} is not a directory.")
    return os.path.abspath(root)


def scan_path_resolve(path: str | None) -> str:
    """The folder to scan: LIBRARY_ROOT, or ``path`` when it resolves to a folder inside it."""
    root = library_root()
    if not path:
        return root
    try:
        start = resolve_inside(root, path)
    except PathOutsideRoot as exc:
        raise LibraryRootError(str(exc)) from exc
    if not os.path.isdir(start):
        raise LibraryRootError(f"{path} is not a directory.")
    return start


def library_scan_run(*, job, path: str | None = None, dry_run: bool = False) -> dict:
    """Scan LIBRARY_ROOT (or the folder ``path`` inside it) into the library.

    Creates and updates Books with their BookFiles, Authors, Narrators, Series and series
    entries; archives books whose files vanished; refreshes cached counts.  With
    ``dry_run`` nothing is written and the summary says what would have changed.
    """
    root = library_root()
    start = scan_path_resolve(path)
    report = ScanReport(job, root=root, start=start, dry_run=dry_run)
    job.log("Scanning %s%s.", start, " (dry run: nothing is written)" if dry_run else "")
    walked = walk(root, start)
    for item in walked.problems:
        report.problem(item.path, item.kind, item.message)
    known = _known_files(start)
    seen = {f.path for group in walked.groups for f in group.files}
    vanished = _vanished(known, seen, walked.unlisted)
    if known and not seen and len(vanished) == len(known):
        raise LibraryRootError(
            f"No audio files under {start}, where {len(known)} were known: is the library mounted? Nothing archived."
        )
    unchanged, work = _classify(walked.groups, known, vanished)
    total = report.counts["files"] = walked.files
    report.counts["books"] = len(walked.groups)
    report.counts["unchanged"] = len(unchanged)
    done = sum(len(group.files) for group in unchanged)
    job.progress(done, total)

    writer = ScanWriter(report, known=known, dry_run=dry_run)
    for batch in _chunks(work, BATCH_BOOKS):
        for item in batch:
            job.check_cancelled()  # reads the database at most every 2 s
            _read(item, root, report)
            done += len(item.group.files)
            job.progress(done, total)
        writer.apply(batch)
        for item in batch:
            item.facts = None  # written: keep memory flat on a large library
    job.check_cancelled()
    _archive(vanished, known, writer.kept_books, report, dry_run=dry_run)
    writer.finish()

    counts = report.counts
    job.count(
        processed=counts["books"],
        succeeded=counts["created"] + counts["updated"],
        skipped=counts["unchanged"],
        failed=counts["errors"],
    )
    job.log(
        "Scanned %d files in %d books: %d created, %d updated, %d unchanged, %d archived, %d errors.",
        counts["files"],
        counts["books"],
        counts["created"],
        counts["updated"],
        counts["unchanged"],
        counts["archived"],
        counts["errors"],
    )
    return report.summary()


def _chunks(items: list, size: int = 500):
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]


def _known_files(start: str) -> dict[str, Known]:
    """Every BookFile under ``start``, in one query."""
    prefix = start.rstrip(os.sep) + os.sep
    rows = BookFile.objects.filter(path__startswith=prefix).values_list("id", "path", "book_id", "size_bytes", "mtime")
    # startswith is case-insensitive on SQLite; paths are not.
    return {path: Known(pk, book_id, size, mtime) for pk, path, book_id, size, mtime in rows if path.startswith(prefix)}


def _vanished(known: dict[str, Known], seen: set[str], unlisted: list[str]) -> set[str]:
    """Known paths the walk did not see (files in folders it could not list are not vanished)."""
    prefixes = tuple(folder.rstrip(os.sep) + os.sep for folder in unlisted)
    return {path for path in known if path not in seen and not (prefixes and path.startswith(prefixes))}


def _classify(groups: list[BookGroup], known: dict[str, Known], vanished: set[str]):
    """Split groups into unchanged ones and work, and give each piece of work its existing book.

    A group is unchanged when its files are exactly its book's files, each with the size and
    mtime on record.  An existing book goes to the group holding most of its files; a new
    group whose file sizes equal those of a book whose files all vanished is that book, moved.
    """
    files_by_book: dict[int, set[str]] = defaultdict(set)
    for path, row in known.items():
        files_by_book[row.book_id].add(path)
    unchanged: list[BookGroup] = []
    work: list[Work] = []
    claims: list[Counter] = []
    for group in groups:
        rows = [known.get(item.path) for item in group.files]
        books = Counter(row.book_id for row in rows if row is not None)
        same = all(
            row is not None and row.size == f.size and row.mtime == f.mtime
            for row, f in zip(rows, group.files, strict=True)
        )
        if same and len(books) == 1 and files_by_book[next(iter(books))] == {f.path for f in group.files}:
            unchanged.append(group)
        else:
            work.append(Work(group))
            claims.append(books)
    taken: set[int] = set()
    for index in sorted(range(len(work)), key=lambda i: -max(claims[i].values(), default=0)):
        for book_id, _count in claims[index].most_common():
            if book_id not in taken:
                work[index].book_id, work[index].from_files = book_id, True
                taken.add(book_id)
                break
    _claim_moved(work, known, vanished, files_by_book, taken)
    return unchanged, work


def _claim_moved(work, known, vanished, files_by_book, taken) -> None:
    """Give a renamed or moved book folder its old book back, matched on its files' sizes."""
    gone_books = {known[path].book_id for path in vanished}
    signatures: dict[tuple, int] = {}
    for book_id in gone_books - taken:
        if files_by_book[book_id] <= vanished:
            signatures.setdefault(tuple(sorted(known[path].size for path in files_by_book[book_id])), book_id)
    if not signatures:
        return
    for item in work:
        if item.book_id is None:
            book_id = signatures.pop(tuple(sorted(f.size for f in item.group.files)), None)
            if book_id is not None:
                item.book_id, item.from_files = book_id, True
                taken.add(book_id)


def _read(item: Work, root: str, report: ScanReport) -> None:
    """Read the tags of every file of ``item`` and merge them with what its path says."""
    tags, files = [], []
    for audio in item.group.files:
        try:
            found = read_audio(audio.path, audio.ext)
        except Exception as exc:  # noqa: BLE001 - hostile tags may break any reader; never the scan
            item.unreadable += 1
            reason = str(exc) if isinstance(exc, UnreadableAudio) else f"{type(exc).__name__}: {exc}"
            report.problem(audio.rel, "unreadable_audio", f"{reason}; skipped.")
            continue
        report.counts["files_read"] += 1
        tags.append(found)
        files.append(file_facts(audio, found))
    if not files:
        return
    label = item.group.key.rstrip("/") or os.path.basename(root)
    if not any(found.has_tags for found in tags):
        report.problem(label, "no_tags", "No tags; title, author and series come from the names.", error=False)
    try:
        facts = book_facts(tags, guess_from_path(item.group.parts), files, single_file=len(item.group.files) == 1)
    except Exception as exc:  # noqa: BLE001 - as above: one odd book is a report line
        report.problem(label, "bad_tag", f"{type(exc).__name__}: {exc}; book skipped.")
        return
    if not facts.fields["title"]:
        facts.fields["title"] = label.rsplit("/", 1)[-1][:500]
    for warning in facts.warnings:
        report.problem(label, "bad_tag", warning, error=False)
    item.facts = facts


def _archive(vanished: set[str], known: dict[str, Known], kept: set[int], report: ScanReport, *, dry_run: bool):
    """Forget vanished files; archive the books left with no files at all (outside the folder too)."""
    if not vanished:
        return
    # One transaction: a book must not lose its last file row without being archived.
    with nullcontext() if dry_run else transaction.atomic():
        if not dry_run:
            for chunk in _chunks([known[path].id for path in vanished]):
                BookFile.objects.filter(id__in=chunk).delete()
        books = []
        for chunk in _chunks(sorted({known[path].book_id for path in vanished} - kept)):
            rows = BookFile.objects.filter(book_id__in=chunk).values_list("book_id", "path")
            alive = {book_id for book_id, path in rows if path not in vanished}  # (a dry run deleted nothing)
            gone = Book.objects.filter(id__in=set(chunk) - alive).exclude(status=BookStatus.ARCHIVED)
            books += gone.only("id", "status")
        report.counts["archived"] = len(books)
        for book in books:
            report.job.log("Archived book %d: its files are gone.", book.id)
        if not dry_run:
            book_set_status(books=books, status=BookStatus.ARCHIVED)
