"""Import a completed download into the library (SPEC §8.6).

The client's content path is mapped through ``DOWNLOAD_PATH_MAP``; the audio files are read
with the scan's tag reader and merged (tags first, then the gap's data, then the download's
name) into one book; the files are placed under ``LIBRARY_ROOT`` following
``LIBRARY_TEMPLATE``.  Files are hardlinked, or copied when a hardlink is impossible: the
torrent keeps seeding, so a source file is never moved or deleted.  A failed placement
removes only what this call created.  Re-importing the same download reuses the files and
the book.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from library import naming
from library.choices import BookStatus
from library.models import Book, BookAuthor, BookFile
from library.models_gaps import GapStatus
from library.positions import Position
from library.scanning.layout import PathGuess, guess_from_path
from library.scanning.metadata import BookFacts, book_facts, file_facts
from library.scanning.tags import AUDIO_EXTENSIONS, AudioTags, UnreadableAudio, read_audio
from library.scanning.walker import AudioFile, PathOutsideRoot, natural_key, resolve_inside
from library.services.abs_sync import abs_scan_after_import
from library.services.books import SeriesRef, book_create, book_update
from mamcrawler.api.exceptions import AppValidationError

logger = logging.getLogger("mamcrawler.downloads")

SOURCE = "import"
DEFAULT_TEMPLATE = "{author}/{series}/{position} - {title}"
NO_SERIES_TEMPLATE = "{author}/{title}"
PART_LENGTH = 120
UNKNOWN_AUTHOR = "Unknown Author"
# Fields that follow the files on every import; the others are only filled when empty.
FILE_FIELDS = frozenset({"duration_seconds", "format", "bitrate_kbps", "size_bytes"})
# A hardlink cannot cross filesystems (EXDEV) or is not allowed there (EPERM, e.g. some FUSE/SMB mounts).
_NO_HARDLINK = frozenset({errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


class ImportFailed(AppValidationError):
    """A download could not be placed in the library; nothing half-written is left behind."""

    default_message = "The download could not be imported."


@dataclass
class ImportResult:
    """What an import did: the book, whether it is new, and how each file got there."""

    book: Book
    created: bool
    files: list[str] = field(default_factory=list)
    linked: int = 0
    copied: int = 0
    reused: int = 0


# --- paths ---------------------------------------------------------------------------------------


def map_client_path(path: str) -> Path:
    """``path`` as the download client reported it, rewritten by ``DOWNLOAD_PATH_MAP``.

    The longest client prefix that matches whole path components wins; unmatched paths
    are returned as they are.
    """
    mapping = settings.DOWNLOAD_PATH_MAP or {}
    for prefix in sorted(mapping, key=len, reverse=True):
        base = prefix.rstrip("/") or "/"
        if path == base or path.startswith(base.rstrip("/") + "/"):
            rest = path[len(base) :].lstrip("/")
            return Path(mapping[prefix]) / rest if rest else Path(mapping[prefix])
    return Path(path)


def sanitise_part(value: str, fallback: str = "") -> str:
    """One safe path component: no separators, control characters or leading dots; ≤ 120 chars."""
    text = _CONTROL.sub("", str(value or "")).replace("/", "-").replace("\\", "-")
    text = _SPACES.sub(" ", text).strip()
    text = text.lstrip(". -").strip()
    text = text[:PART_LENGTH].strip()
    return text or fallback


def _sanitise_file_name(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        return sanitise_part(name, "file")
    ext = sanitise_part(ext)[:10]
    return f"{sanitise_part(stem, 'file')[: PART_LENGTH - len(ext) - 1].strip()}.{ext}"


def position_label(position: Position | None) -> str:
    """A position padded for sorting: 3 → "03", 2.5 → "02.5", 5-6 → "05-06"; "" without one."""
    if position is None or position.start is None:
        return ""
    label = _pad(position.start)
    return f"{label}-{_pad(position.end)}" if position.end is not None else label


def _pad(value: Decimal) -> str:
    whole, _, fraction = format(value.normalize(), "f").partition(".")
    return f"{int(whole):02d}" + (f".{fraction}" if fraction else "")


def _library_root() -> str:
    root = settings.LIBRARY_ROOT
    if not root:
        raise ImportFailed("LIBRARY_ROOT is not set: there is nowhere to import to.")
    if not os.path.isdir(root):
        raise ImportFailed(f"LIBRARY_ROOT {root} is not a directory.")
    return os.path.abspath(root)


def _target_folder(root: str, facts: BookFacts) -> str:
    """The book's folder under ``root`` from LIBRARY_TEMPLATE; raises when it would leave the root."""
    series_name, position = facts.series[0] if facts.series else ("", None)
    values = {
        "author": sanitise_part(facts.authors[0] if facts.authors else "", UNKNOWN_AUTHOR),
        "series": sanitise_part(series_name),
        "position": position_label(position),
        "title": sanitise_part(facts.title, "Untitled"),
    }
    template = settings.LIBRARY_TEMPLATE or DEFAULT_TEMPLATE
    if "{series}" in template and not values["series"]:
        template = NO_SERIES_TEMPLATE
    parts = []
    for segment in template.replace("\\", "/").split("/"):
        try:
            text = segment.format_map(values)
        except (KeyError, ValueError, IndexError) as exc:
            raise ImportFailed(f"LIBRARY_TEMPLATE {template!r} is not valid: {exc}.") from exc
        # A missing position leaves " - Title": trim the separators it leaves behind.
        text = sanitise_part(text.strip(" -_"))
        if text:
            parts.append(text)
    if not parts:
        raise ImportFailed(f"LIBRARY_TEMPLATE {template!r} names no folder.")
    return _inside_root(root, os.path.join(root, *parts))


def _inside_root(root: str, path: str) -> str:
    try:
        return resolve_inside(root, path)
    except PathOutsideRoot as exc:
        raise ImportFailed(f"Refusing to write outside LIBRARY_ROOT: {exc}") from exc


# --- files ---------------------------------------------------------------------------------------


def _audio_files(source: Path) -> list[tuple[Path, tuple[str, ...]]]:
    """``[(file, parts relative to the download)]`` of every audio file, in natural order."""
    if source.is_file():
        if source.suffix.lstrip(".").lower() not in AUDIO_EXTENSIONS:
            raise ImportFailed(f"{source} is not an audio file.")
        return [(source, (source.name,))]
    if not source.is_dir():
        raise ImportFailed(f"The downloaded content {source} does not exist.")
    found = []
    for folder, dirs, names in os.walk(source):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        for name in names:
            ext = name.rpartition(".")[2].lower() if "." in name else ""
            if name.startswith(".") or ext not in AUDIO_EXTENSIONS:
                continue
            path = Path(folder) / name
            if path.is_file():
                found.append((path, path.relative_to(source).parts))
    if not found:
        raise ImportFailed(f"No audio files in {source}.")
    return sorted(found, key=lambda item: natural_key("/".join(item[1])))


def _read(path: Path) -> AudioTags:
    try:
        return read_audio(str(path))
    except UnreadableAudio as exc:
        logger.warning("Cannot read tags of %s: %s", path, exc)
        return AudioTags()


def _hint_guess(source: Path, gap, hint: dict | None) -> PathGuess:
    """What the hint, the gap and the download's own name say, in that order of trust."""
    name = source.stem if source.is_file() else source.name
    folder = guess_from_path([name])
    hint = hint or {}
    authors = hint.get("authors") or hint.get("author") or ()
    if isinstance(authors, str):
        authors = [authors]
    series = hint.get("series") or ""
    position = str(hint.get("position") or "")
    title = hint.get("title") or ""
    if gap is not None:
        title = title or gap.title
        authors = authors or list(gap.author_names or [])
        if not authors and gap.primary_author_id:
            authors = [gap.primary_author.name]
        if not series and gap.series_id:
            series, position = gap.series.name, position or gap.position_label
    return PathGuess(
        title=title or folder.title,
        authors=tuple(authors) or folder.authors,
        series=series or folder.series,
        position=position if series else folder.position,
        narrators=tuple(hint.get("narrators") or ()) or folder.narrators,
        year=folder.year,
    )


def _place(plan: list[tuple[Path, str]], result: ImportResult) -> tuple[list[str], list[str]]:
    """Hardlink (else copy) each source to its target; on a write error undo this call's files.

    Returns the files and folders this call created, for an undo when the database write fails.
    """
    created_files: list[str] = []
    created_dirs: list[str] = []
    try:
        for source, target in plan:
            if os.path.lexists(target):
                if os.path.isfile(target) and os.path.getsize(target) == source.stat().st_size:
                    result.reused += 1
                    continue
                raise ImportFailed(f"{target} already exists and is a different file; not overwritten.")
            _make_dirs(os.path.dirname(target), created_dirs)
            try:
                os.link(source, target)
                created_files.append(target)
                result.linked += 1
                continue
            except OSError as exc:
                if exc.errno not in _NO_HARDLINK:
                    raise
            # Copy under a hidden name, so neither a scan nor a re-import sees half a file.
            partial = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.importing")
            created_files.append(partial)
            shutil.copy2(source, partial)
            os.replace(partial, target)
            created_files[-1] = target
            result.copied += 1
    except (OSError, ImportFailed) as exc:
        _undo(created_files, created_dirs)
        if isinstance(exc, ImportFailed):
            raise
        reason = exc.strerror or str(exc)
        raise ImportFailed(
            f"Could not write {getattr(exc, 'filename', None) or 'a library file'}: {reason}. "
            "Nothing was imported; the downloaded files are untouched.",
            message="Writing to the library failed.",
        ) from exc
    result.files = [target for _source, target in plan]
    return created_files, created_dirs


def _make_dirs(folder: str, created: list[str]) -> None:
    missing = []
    while folder and not os.path.isdir(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    for path in reversed(missing):
        os.mkdir(path)
        created.append(path)


def _undo(files: list[str], dirs: list[str]) -> None:
    for path in files:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            logger.warning("Could not remove the partial file %s: %s", path, exc)
    for path in reversed(dirs):
        with contextlib.suppress(OSError):  # not empty (someone else wrote there) or already gone
            os.rmdir(path)


# --- the book ------------------------------------------------------------------------------------


def _match_book(facts: BookFacts, targets: list[str]) -> Book | None:
    """The book already holding these files, else one with the same ASIN/ISBN, else title + first author."""
    owner = BookFile.objects.filter(path__in=targets).values_list("book_id", flat=True).first()
    if owner is not None:
        return Book.objects.get(pk=owner)
    for name in ("asin", "isbn"):
        value = facts.fields.get(name)
        if value:
            book = Book.objects.filter(**{f"{name}__iexact": value}).order_by("id").first()
            if book is not None:
                return book
    if facts.authors:
        author_key = naming.person_key(facts.authors[0])
        title_key = naming.name_key(facts.title)
        links = BookAuthor.objects.filter(position=0, author__name_key=author_key, book__title__iexact=facts.title)
        for link in links.select_related("book").order_by("book_id"):
            if naming.name_key(link.book.title) == title_key:
                return link.book
    return None


def _series_refs(facts: BookFacts) -> list[SeriesRef]:
    return [SeriesRef(series=name, position=position) for name, position in facts.series[:1]]


def _write_book(facts: BookFacts, targets: list[str]) -> tuple[Book, bool]:
    book = _match_book(facts, targets)
    if book is None:
        book = book_create(
            fields=facts.fields,
            authors=facts.authors,
            narrators=facts.narrators,
            series=_series_refs(facts),
            source=SOURCE,
        )
        return book, True
    locked = set(book.locked_fields or [])
    fields = {}
    for name, value in facts.fields.items():
        if name in locked or value in (None, ""):
            continue
        current = getattr(book, name)
        if (name in FILE_FIELDS or current in (None, "")) and current != value:
            fields[name] = value
    if book.status == BookStatus.ARCHIVED:
        fields["status"] = BookStatus.ACTIVE
    has_authors = book.book_authors.exists()
    has_narrators = book.narrators.exists()
    has_series = book.series_entries.exclude(position__isnull=True).exists()
    book_update(
        book=book,
        fields=fields,
        authors=facts.authors if facts.authors and not has_authors and "authors" not in locked else None,
        narrators=facts.narrators if facts.narrators and not has_narrators and "narrators" not in locked else None,
        series=_series_refs(facts) if facts.series and not has_series and "series" not in locked else None,
        source=SOURCE,
    )
    return book, False


def _write_files(book: Book, rows: list[tuple[str, AudioTags, str]]) -> None:
    for path, tags, ext in rows:
        stat = os.stat(path)
        BookFile.objects.update_or_create(
            path=path,
            defaults={
                "book": book,
                "size_bytes": stat.st_size,
                "mtime": stat.st_mtime,
                "format": ext[:10],
                "duration_seconds": tags.duration,
                "bitrate_kbps": tags.bitrate_kbps,
                "codec": tags.codec[:32],
                "chapters": tags.chapters,
            },
        )


# --- the import ----------------------------------------------------------------------------------


def import_completed(*, content_path: str, gap=None, hint: dict | None = None) -> ImportResult:
    """Import the finished download at ``content_path`` (as the client reports it) into the library.

    Side effects: hardlinks or copies of the audio files under LIBRARY_ROOT (sources are
    never moved or deleted); a created or updated Book with its BookFiles, authors,
    narrators and series; ``gap`` marked completed and resolved; an Audiobookshelf library
    scan when it is configured.  Raises ``ImportFailed`` (nothing half-written is left)
    when LIBRARY_ROOT is unusable, the target would leave it, or writing fails.
    """
    root = _library_root()
    source = map_client_path(content_path)
    audio = _audio_files(source)
    tags, files = [], []
    for path, parts in audio:
        stat = path.stat()
        found = _read(path)
        tags.append(found)
        ext = path.suffix.lstrip(".").lower()
        files.append(file_facts(AudioFile(str(path), "/".join(parts), stat.st_size, stat.st_mtime, ext), found))
    facts = book_facts(tags, _hint_guess(source, gap, hint), files, single_file=len(audio) == 1)
    if not facts.fields["title"]:
        facts.fields["title"] = (source.stem if source.is_file() else source.name)[:500] or "Untitled"

    folder = _target_folder(root, facts)
    plan = []
    for path, parts in audio:
        relative = [sanitise_part(part, "folder") for part in parts[:-1]] + [_sanitise_file_name(parts[-1])]
        plan.append((path, _inside_root(root, os.path.join(folder, *relative))))

    result = ImportResult(book=None, created=False)  # type: ignore[arg-type]
    created_files, created_dirs = _place(plan, result)
    try:
        with transaction.atomic():
            book, created = _write_book(facts, result.files)
            _write_files(
                book, [(target, found, f.format) for (_s, target), found, f in zip(plan, tags, files, strict=True)]
            )
            if gap is not None:
                gap.status = GapStatus.COMPLETED
                gap.resolved_book = book
                gap.resolved_at = timezone.now()
                gap.save(update_fields=["status", "resolved_book", "resolved_at", "updated_at"])
    except Exception:
        _undo(created_files, created_dirs)
        raise
    result.book, result.created = book, created
    logger.info(
        "Imported %s as book %d (%s): %d linked, %d copied, %d reused.",
        source,
        book.id,
        "new" if created else "existing",
        result.linked,
        result.copied,
        result.reused,
    )
    if settings.ABS_URL and settings.ABS_API_KEY:
        abs_scan_after_import()
    return result
