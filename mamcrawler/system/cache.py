"""A counters-only cache backend with atomic increments, on SQL.

Used for throttle and login-attempt counters when no Redis is configured: Django's
DatabaseCache increments by read-then-write, which lets concurrent processes overrun a
budget.  Here every increment is one atomic upsert.  Values are integers only.

Where the counters live is ``LOCATION``:

- a file path: a SQLite database of their own (the SQLite deployment, ``COUNTERS_SQLITE_PATH``).
  One write per API request then never waits for the library database's write lock — which a
  scan or an import can hold for a while — and never grows its WAL. Measured with
  ``bench/load.py --counters db``: books list ÷ floor 0.63 and 0.67 in two runs, against 0.58
  and 0.61 with the counters in the library database.
- empty: the project database (``system_throttlecounter``), e.g. PostgreSQL without Redis.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db import connection

TABLE = "system_throttlecounter"
_FILE_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(key VARCHAR(200) PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL)"
)
_FILE_INDEX = f"CREATE INDEX IF NOT EXISTS {TABLE}_expires_at ON {TABLE} (expires_at)"


class _QmarkCursor:
    """A sqlite3 cursor taking the ``%s`` placeholders the Django cursor takes."""

    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

    def execute(self, sql: str, params=()):
        self._cursor.execute(sql.replace("%s", "?"), params)

    def fetchone(self):
        return self._cursor.fetchone()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class _CounterFile:
    """A SQLite file of counters: one autocommit connection per thread and process."""

    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()

    @contextmanager
    def cursor(self):
        # A connection must not cross a fork (django-q2 forks its workers): reopen in a new process.
        if getattr(self._local, "pid", None) != os.getpid():
            self._local.connection = self._connect()
            self._local.pid = os.getpid()
        cursor = self._local.connection.cursor()
        try:
            yield _QmarkCursor(cursor)
        finally:
            cursor.close()

    def _connect(self) -> sqlite3.Connection:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        database = sqlite3.connect(self.path, timeout=settings.SQLITE_BUSY_TIMEOUT, isolation_level=None)
        database.execute("PRAGMA journal_mode=WAL")
        database.execute("PRAGMA synchronous=NORMAL")
        database.execute(_FILE_SCHEMA)
        database.execute(_FILE_INDEX)
        return database


class CounterCache(BaseCache):
    """Integer counters in ``system_throttlecounter``; enough for throttles and django-ratelimit."""

    def __init__(self, location, params):
        super().__init__(params)
        self._file = _CounterFile(location) if location else None

    def _cursor(self):
        return self._file.cursor() if self._file else connection.cursor()

    def _expiry(self, timeout) -> float:
        timeout = self.get_backend_timeout(timeout)
        return float("inf") if timeout is None else timeout

    def purge_expired(self) -> int:
        """Delete expired counters (run by the cleanup job); returns how many went."""
        with self._cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE expires_at < %s", [time.time()])  # noqa: S608
            return cursor.rowcount

    def count(self, key: str, timeout: float) -> tuple[int, float]:
        """Add one to ``key`` and return ``(count, expires_at)``.

        A missing or expired counter starts again at one with a fresh ``timeout``, so a
        window opens at the first request rather than on a clock boundary.
        """
        key = self.make_and_validate_key(key)
        now = time.time()
        with self._cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (key, count, expires_at) VALUES (%s, 1, %s) "  # noqa: S608
                f"ON CONFLICT (key) DO UPDATE SET "
                f"count = CASE WHEN {TABLE}.expires_at < %s THEN 1 ELSE {TABLE}.count + 1 END, "
                f"expires_at = CASE WHEN {TABLE}.expires_at < %s THEN excluded.expires_at "
                f"ELSE {TABLE}.expires_at END RETURNING count, expires_at",
                [key, now + timeout, now, now],
            )
            count, expires_at = cursor.fetchone()
        return count, expires_at

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version)
        now = time.time()
        with self._cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE key = %s AND expires_at < %s", [key, now])  # noqa: S608
            cursor.execute(
                f"INSERT INTO {TABLE} (key, count, expires_at) VALUES (%s, %s, %s) "  # noqa: S608
                "ON CONFLICT (key) DO NOTHING",
                [key, int(value), self._expiry(timeout)],
            )
            return cursor.rowcount == 1

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version)
        with self._cursor() as cursor:
            cursor.execute(
                f"SELECT count FROM {TABLE} WHERE key = %s AND expires_at >= %s",  # noqa: S608
                [key, time.time()],
            )
            row = cursor.fetchone()
        return default if row is None else row[0]

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version)
        with self._cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (key, count, expires_at) VALUES (%s, %s, %s) "  # noqa: S608
                "ON CONFLICT (key) DO UPDATE SET count = excluded.count, expires_at = excluded.expires_at",
                [key, int(value), self._expiry(timeout)],
            )

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version)
        with self._cursor() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET count = count + %s WHERE key = %s AND expires_at >= %s "  # noqa: S608
                "RETURNING count",
                [delta, key, time.time()],
            )
            row = cursor.fetchone()
        if row is None:
            raise ValueError(f"Key {key!r} not found.")
        return row[0]

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version)
        with self._cursor() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET expires_at = %s WHERE key = %s",  # noqa: S608
                [self._expiry(timeout), key],
            )
            return cursor.rowcount == 1

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version)
        with self._cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE key = %s", [key])  # noqa: S608
            return cursor.rowcount == 1

    def has_key(self, key, version=None):
        return self.get(key, version=version) is not None

    def clear(self):
        with self._cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
