"""A tiny typed reader for configuration taken from the environment.

Every setting of the project comes from environment variables (optionally loaded
from a ``.env`` file).  The reader fails loudly with ``ImproperlyConfigured`` when
a value cannot be parsed, so a typo never silently becomes a default.  A variable
``NAME_FILE`` pointing at a file is honoured for secrets (Docker secrets style).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}
_MISSING = object()


class Env:
    """Read typed values from a mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ

    def raw(self, name: str, default=_MISSING, *, blank: bool = False):
        """The string value of ``name``, or of the file named by ``name``_FILE.

        An empty value counts as unset (``.env.example`` lists every variable as ``NAME=``):
        it means the default, never an empty secret, signing key or database URL — unless
        ``blank`` says that an empty value means something of its own (``LOG_FILE=``).
        """
        if name in self.environ and (blank or self.environ[name].strip()):
            return self.environ[name]
        file_name = self.environ.get(f"{name}_FILE")
        if file_name:
            try:
                return Path(file_name).read_text().strip()
            except OSError as exc:
                raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {exc}") from exc
        if default is _MISSING:
            raise ImproperlyConfigured(f"Set the environment variable {name}.")
        return default

    def str(self, name: str, default=_MISSING, *, blank: bool = False) -> str:
        return self.raw(name, default, blank=blank)

    def bool(self, name: str, default: bool | object = _MISSING) -> bool:
        value = self.raw(name, default)
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name}: expected a boolean (true/false), got {value!r}.")

    def int(self, name: str, default: int | object = _MISSING) -> int:
        value = self.raw(name, default)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: expected an integer, got {value!r}.") from exc

    def float(self, name: str, default: float | object = _MISSING) -> float:
        value = self.raw(name, default)
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return float(str(value).strip())
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: expected a number, got {value!r}.") from exc

    def list(self, name: str, default: list[str] | object = _MISSING) -> list[str]:
        """A comma-separated list; blank items are dropped."""
        value = self.raw(name, default)
        if isinstance(value, list):
            return value
        return [item.strip() for item in str(value).split(",") if item.strip()]

    def path(self, name: str, default: str | Path | object = _MISSING, *, base: Path | None = None) -> Path:
        """A filesystem path; relative paths are resolved against ``base``."""
        value = Path(str(self.raw(name, default))).expanduser()
        if not value.is_absolute() and base is not None:
            value = base / value
        return value.resolve()

    def mapping(self, name: str, default: dict[str, str] | object = _MISSING) -> dict[str, str]:
        """Comma-separated ``key=value`` pairs (``/downloads=/data/downloads``)."""
        value = self.raw(name, default)
        if isinstance(value, dict):
            return value
        result: dict[str, str] = {}
        for item in str(value).split(","):
            if not item.strip():
                continue
            key, sep, mapped = item.partition("=")
            if not sep or not key.strip():
                raise ImproperlyConfigured(f"{name}: expected key=value pairs, got {item!r}.")
            result[key.strip()] = mapped.strip()
        return result


def read_dotenv(path: Path, environ: dict | None = None) -> None:
    """Load ``KEY=value`` lines from ``path`` without overriding variables already set."""
    environ = os.environ if environ is None else environ
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        environ.setdefault(key, value)
