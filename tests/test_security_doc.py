"""SECURITY.md points each claim at tests that exist (a renamed test must not leave a dead reference)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def references() -> list[tuple[str, str]]:
    """``(file, function)`` of every reference; ``::name`` alone continues the file before it."""
    found, current = [], None
    for path, name in re.findall(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`", (ROOT / "SECURITY.md").read_text()):
        current = path or current
        if name:
            found.append((current, name))
    return found


def test_every_referenced_test_exists():
    refs = references()
    missing = [
        f"{path}::{name}"
        for path, name in refs
        if not re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.MULTILINE)
    ]

    assert len(refs) > 40
    assert missing == []
