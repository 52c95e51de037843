"""The tail of the application log (``LOG_FILE``), read backwards from the end of the file.

Only the last blocks are read, never the whole file: a log of gigabytes answers as fast as
a small one.  ``MAX_TAIL_BYTES`` bounds the read even when lines are very long.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

BLOCK = 8192
MAX_TAIL_BYTES = 4 * 1024 * 1024


def tail_lines(
    path: Path, lines: int, *, block: int = BLOCK, max_bytes: int = MAX_TAIL_BYTES
) -> tuple[list[str], bool]:
    """The last ``lines`` lines of ``path`` (oldest first) and whether older content was left unread.

    Reads blocks from the end until it holds ``lines`` complete lines or ``max_bytes``.
    """
    with path.open("rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        position, chunks, newlines = end, [], 0
        # One newline more than asked: the text before it is the partial line to drop.
        while position > 0 and newlines <= lines and end - position < max_bytes:
            step = min(block, position, max_bytes - (end - position))
            position -= step
            handle.seek(position)
            chunk = handle.read(step)
            chunks.append(chunk)
            newlines += chunk.count(b"\n")
    data = b"".join(reversed(chunks))
    text = data.decode("utf-8", errors="replace")
    found = text.splitlines()
    if position > 0 and found:
        found = found[1:]  # the first line started before what was read
    return found[-lines:] if lines else [], position > 0 or len(found) > lines


def log_tail(*, lines: int) -> dict:
    """The last ``lines`` lines of ``LOG_FILE``; no lines and a reason when there is no log file."""
    configured = settings.LOG_FILE or ""
    if not configured:
        return {
            "file": None,
            "size_bytes": None,
            "lines": [],
            "count": 0,
            "truncated": False,
            "reason": "LOG_FILE is blank: the application logs to the console only.",
        }
    path = Path(configured)
    if not path.is_file():
        return {
            "file": str(path),
            "size_bytes": None,
            "lines": [],
            "count": 0,
            "truncated": False,
            "reason": "The log file does not exist yet.",
        }
    found, truncated = tail_lines(path, lines)
    return {
        "file": str(path),
        "size_bytes": path.stat().st_size,
        "lines": found,
        "count": len(found),
        "truncated": truncated,
        "reason": None,
    }
