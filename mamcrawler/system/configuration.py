"""The effective settings of the project, every secret redacted (``/api/v1/system/configuration/``).

What is shown: each upper-case setting the project's settings module defines (read through
``django.conf.settings``, so overrides count), minus Django plumbing that says nothing about
how this installation behaves.  What is hidden:

* the value of any setting — or nested key — whose name contains KEY, SECRET, PASSWORD,
  TOKEN, SESSION_ID or COOKIE (numbers and booleans such as ``SESSION_COOKIE_AGE`` stay:
  they tune, they do not authenticate);
* the password in every URL or DSN (``postgres://u:pw@h/db`` → ``postgres://u:***@h/db``)
  and secret-looking query parameters (``?apikey=``);
* any string that contains a redacted value, wherever it turns up (``SIMPLE_JWT`` reuses
  ``SECRET_KEY``, ``Q_CLUSTER`` reuses ``REDIS_URL``).
"""

from __future__ import annotations

import importlib
import os
import re
from datetime import timedelta
from pathlib import PurePath
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import connection

REDACTED = "***"
SECRET_WORDS = ("KEY", "SECRET", "PASSWORD", "TOKEN", "SESSION_ID", "COOKIE")
# Query parameters that carry credentials (lower-cased substrings).
_SECRET_QUERY_WORDS = ("key", "secret", "password", "passwd", "pass", "token", "session", "cookie", "auth", "sig")
# Plumbing: how Django is wired, not how this installation behaves.
HIDDEN = frozenset(
    {
        "INSTALLED_APPS",
        "MIDDLEWARE",
        "TEMPLATES",
        "AUTH_PASSWORD_VALIDATORS",
        "PASSWORD_HASHERS",
        "STORAGES",
        "LOGGING",
        "ROOT_URLCONF",
        "WSGI_APPLICATION",
        "ASGI_APPLICATION",
        "SPECTACULAR_SETTINGS",
        "DEFAULT_AUTO_FIELD",
        "SILENCED_SYSTEM_CHECKS",
        "LANGUAGE_CODE",
        "USE_I18N",
    }
)
_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"]+", re.I)


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS)


def redact_url(url: str) -> str:
    """``url`` with its password and secret query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    if "@" not in parts.netloc and not any(_secret_query(key) for key, _ in parse_qsl(parts.query)):
        return url  # untouched: a round trip through urlsplit may change the spelling (sqlite:///)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:{REDACTED}@{host}" if has_password else f"{REDACTED}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(key, REDACTED if _secret_query(key) else value) for key, value in pairs],
            safe="*/:",
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _secret_query(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_QUERY_WORDS)


def _plain(value):
    """A JSON-able copy of a setting's value."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(item) for item in value), key=str)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


class _Redactor:
    """Walks a settings value; remembers every secret it hid so later strings cannot repeat it."""

    def __init__(self):
        self.secrets: set[str] = set()
        self.redacted: list[str] = []

    def collect(self, name: str, value) -> None:
        """First pass: the value of every secret-named key, at any depth."""
        if is_secret_name(name) and isinstance(value, (str, bytes)) and value:
            self.secrets.add(value.decode(errors="replace") if isinstance(value, bytes) else value)
        if isinstance(value, dict):
            for key, item in value.items():
                self.collect(str(key), item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self.collect("", item)
        elif isinstance(value, str):
            for url in _URL.findall(value):
                password = urlsplit(url).password if "@" in url else None
                if password:
                    self.secrets.add(password)

    def clean(self, path: str, name: str, value):
        if is_secret_name(name) and not isinstance(value, (bool, int, float)) and value is not None:
            if value in ("", [], {}, ()):
                return value
            self.redacted.append(path)
            return REDACTED
        if isinstance(value, dict):
            return {key: self.clean(f"{path}.{key}", key, item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.clean(f"{path}[{index}]", "", item) for index, item in enumerate(value)]
        if isinstance(value, str):
            cleaned = _URL.sub(lambda match: redact_url(match.group(0)), value)
            for secret in sorted(self.secrets, key=len, reverse=True):
                if len(secret) >= 3:
                    cleaned = cleaned.replace(secret, REDACTED)
            if cleaned != value:
                self.redacted.append(path)
            return cleaned
        return value


def _setting_names() -> list[str]:
    # Overridden settings (tests) hide SETTINGS_MODULE; the environment still names the module.
    module = importlib.import_module(settings.SETTINGS_MODULE or os.environ["DJANGO_SETTINGS_MODULE"])
    names = {name for name in vars(module) if name.isupper() and not name.startswith("_")}
    return sorted(name for name in names - HIDDEN if hasattr(settings, name))


def _backend(alias: str) -> str | None:
    config = settings.CACHES.get(alias)
    return config["BACKEND"] if config else None


def effective_configuration() -> dict:
    """Every project setting as the running process sees it, secrets redacted (see the module doc)."""
    values = {name: _plain(getattr(settings, name)) for name in _setting_names()}
    redactor = _Redactor()
    for name, value in values.items():
        redactor.collect(name, value)
    cleaned = {name: redactor.clean(name, name, value) for name, value in values.items()}
    return {
        "settings": cleaned,
        "redacted": sorted(set(redactor.redacted)),
        "database_vendor": connection.vendor,
        "cache_backend": _backend("default"),
        "counters_backend": _backend("counters"),
        "log_file": settings.LOG_FILE or None,
    }
