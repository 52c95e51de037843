"""Walk the library folder and group its audio files into books, without leaving LIBRARY_ROOT.

A folder of audio files is one book (``CD1``/``Disc 2`` sub-folders belong to it); an
``.m4b`` is a book by itself (``Title - Part 1.m4b``, ``Part 2`` … together make one); loose
files directly in the root are one book each.  Symlinks are followed only when their target
resolves inside the root, each directory is visited once, and names that are not valid UTF-8
are reported instead of stored.  Only ``stat`` is called here: tags are read later, and only
for files that changed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from stat import S_ISREG

from library.scanning.tags import AUDIO_EXTENSIONS

# BookFile.path is a CharField(max_length=1024).
MAX_PATH_LENGTH = 1024
SINGLE_FILE_BOOK_EXTENSIONS = frozenset({"m4b"})
SKIPPED_FOLDERS = frozenset({"@eaDir", "#recycle", "$RECYCLE.BIN", "lost+found", "System Volume Information"})
_DISC_FOLDER = re.compile(r"^(?:cd|disc|disk)\s*[-_.]?\s*\d{1,3}$", re.I)
_PART_SUFFIX = re.compile(r"[\s._-]*[(\[]?(?:part|pt|disc|disk|cd)\s*[-_.]?\s*\d{1,3}(?:\s*of\s*\d{1,3})?[)\]]?$", re.I)
_DIGITS = re.compile(r"(\d+)")


class PathOutsideRoot(ValueError):
    """A path that does not resolve inside LIBRARY_ROOT."""


@dataclass(frozen=True)
class AudioFile:
    """One audio file as ``stat`` saw it; ``path`` is absolute, under the root as configured."""

    path: str
    rel: str
    size: int
    mtime: float
    ext: str


@dataclass
class BookGroup:
    """The files of one book, and the path components (relative to the root) that name it."""

    key: str
    parts: tuple[str, ...]
    files: list[AudioFile] = field(default_factory=list)


@dataclass(frozen=True)
class WalkProblem:
    path: str
    kind: str
    message: str


@dataclass
class WalkResult:
    groups: list[BookGroup]
    problems: list[WalkProblem]
    # Folders that could not be listed: their known files must not count as vanished.
    unlisted: list[str]

    @property
    def files(self) -> int:
        return sum(len(group.files) for group in self.groups)


def natural_key(text: str) -> list:
    """Sort "2" before "10" and ignore case."""
    return [int(part) if part.isdigit() else part.casefold() for part in _DIGITS.split(text)]


def _inside(real: str, root_real: str) -> bool:
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def resolve_inside(root: str, candidate: str) -> str:
    """``candidate`` (absolute, or relative to ``root``) as an absolute path under ``root``.

    Symlinks are resolved before the check; raises ``PathOutsideRoot`` when the real path
    is not ``root`` itself or below it.
    """
    root = os.path.abspath(root)
    path = candidate if os.path.isabs(candidate) else os.path.join(root, candidate)
    real, root_real = os.path.realpath(path), os.path.realpath(root)
    if not _inside(real, root_real):
        raise PathOutsideRoot(f"{candidate} is outside the library root {root}.")
    rel = os.path.relpath(real, root_real)
    return root if rel == "." else os.path.join(root, rel)


def _printable(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _valid_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def walk(root: str, start: str | None = None) -> WalkResult:
    """Every audio file under ``start`` (default ``root``), grouped into books."""
    root = os.path.abspath(root)
    root_real = os.path.realpath(root)
    start = resolve_inside(root, start) if start else root
    problems: list[WalkProblem] = []
    unlisted: list[str] = []
    groups: dict[str, BookGroup] = {}
    start_rel = os.path.relpath(start, root)
    start_parts = () if start_rel == "." else tuple(start_rel.split(os.sep))
    while len(start_parts) > 1 and _DISC_FOLDER.match(start_parts[-1]):
        # A disc folder is half a book: scan the whole book or its other discs look vanished.
        start, start_parts = os.path.dirname(start), start_parts[:-1]
    try:
        start_stat = os.stat(start)
    except OSError as exc:
        raise PathOutsideRoot(f"{start} cannot be read: {exc.strerror or exc}.") from exc
    visited = {(start_stat.st_dev, start_stat.st_ino)}
    stack = [(start, start_parts)]

    def problem(parts: tuple[str, ...], name: str, kind: str, message: str) -> None:
        problems.append(WalkProblem("/".join((*parts, _printable(name))), kind, message))

    while stack:
        folder, parts = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            unlisted.append(folder)
            problems.append(WalkProblem("/".join(parts) or ".", "unreadable", f"Cannot list folder: {exc.strerror}."))
            continue
        audio: list[AudioFile] = []
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name in SKIPPED_FOLDERS:
                continue
            ext = name.rpartition(".")[2].lower() if "." in name else ""
            try:
                linked = entry.is_symlink()
                if linked and not _inside(os.path.realpath(entry.path), root_real):
                    problem(parts, name, "outside_root", "Symlink points outside the library root; skipped.")
                    continue
                is_dir = entry.is_dir()
                if not is_dir and ext not in AUDIO_EXTENSIONS:
                    continue
                if not _valid_name(name):
                    problem(parts, name, "bad_name", "Name is not valid UTF-8; rename it to include it.")
                    continue
                stat = entry.stat()
                if is_dir:
                    identity = (stat.st_dev, stat.st_ino)
                    if identity not in visited:
                        visited.add(identity)
                        stack.append((entry.path, (*parts, name)))
                    continue
                if not S_ISREG(stat.st_mode):
                    continue  # a FIFO or device named like audio would block or make no sense to read
                if linked and (stat.st_dev, stat.st_ino) in visited:
                    continue  # a symlink to a file already seen elsewhere under the root
                if linked:
                    visited.add((stat.st_dev, stat.st_ino))
                if len(entry.path) > MAX_PATH_LENGTH:
                    problem(parts, name, "bad_name", f"Path is longer than {MAX_PATH_LENGTH} characters.")
                    continue
                rel = "/".join((*parts, name))
                audio.append(AudioFile(entry.path, rel, stat.st_size, stat.st_mtime, ext))
            except OSError as exc:
                problem(parts, name, "unreadable", f"Cannot stat: {exc.strerror}.")
        if audio:
            _group(audio, parts, groups)
    for group in groups.values():
        group.files.sort(key=lambda item: natural_key(item.rel))
    ordered = sorted(groups.values(), key=lambda group: natural_key(group.key))
    return WalkResult(groups=ordered, problems=problems, unlisted=unlisted)


def _group(audio: list[AudioFile], parts: tuple[str, ...], groups: dict[str, BookGroup]) -> None:
    """Add the audio files of one folder to the book groups they belong to."""
    folder_files = []
    for item in audio:
        stem = os.path.splitext(item.rel.rsplit("/", 1)[-1])[0]
        if item.ext in SINGLE_FILE_BOOK_EXTENSIONS:
            base = _PART_SUFFIX.sub("", stem).strip() or stem
            _add(groups, "/".join((*parts, base)) + "." + item.ext, (*parts, base), item)
        elif not parts:
            _add(groups, item.rel, (stem,), item)  # loose files in the root: one book each
        else:
            folder_files.append(item)
    if not folder_files:
        return
    book_parts = parts[:-1] if len(parts) > 1 and _DISC_FOLDER.match(parts[-1]) else parts
    for item in folder_files:
        _add(groups, "/".join(book_parts) + "/", book_parts, item)


def _add(groups: dict[str, BookGroup], key: str, parts: tuple[str, ...], item: AudioFile) -> None:
    group = groups.get(key)
    if group is None:
        group = groups[key] = BookGroup(key=key, parts=parts)
    group.files.append(item)
