"""A counters-only cache backend on the database, with atomic increments.

Used for throttle and login-attempt counters when no Redis is configured: Django's
DatabaseCache increments by read-then-write, which lets concurrent processes overrun a
budget.  Here every increment is one atomic upsert.  Values are integers only.
"""

from __future__ import annotations

import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db import connection

TABLE = "system_throttlecounter"


class CounterCache(BaseCache):
    """Integer counters in ``system_throttlecounter``; enough for throttles and django-ratelimit."""

    def __init__(self, location, params):
        super().__init__(params)

    def _expiry(self, timeout) -> float:
        timeout = self.get_backend_timeout(timeout)
        return float("inf") if timeout is None else timeout

    def purge_expired(self) -> int:
        """Delete expired counters (run by the cleanup job); returns how many went."""
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE expires_at < %s", [time.time()])  # noqa: S608
            return cursor.rowcount

    def count(self, key: str, timeout: float) -> tuple[int, float]:
        """Add one to ``key`` and return ``(count, expires_at)``.

        A missing or expired counter starts again at one with a fresh ``timeout``, so a
        window opens at the first request rather than on a clock boundary.
        """
        key = self.make_and_validate_key(key)
        now = time.time()
        with connection.cursor() as cursor:
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
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE key = %s AND expires_at < %s", [key, now])  # noqa: S608
            cursor.execute(
                f"INSERT INTO {TABLE} (key, count, expires_at) VALUES (%s, %s, %s) "  # noqa: S608
                "ON CONFLICT (key) DO NOTHING",
                [key, int(value), self._expiry(timeout)],
            )
            return cursor.rowcount == 1

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count FROM {TABLE} WHERE key = %s AND expires_at >= %s",  # noqa: S608
                [key, time.time()],
            )
            row = cursor.fetchone()
        return default if row is None else row[0]

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (key, count, expires_at) VALUES (%s, %s, %s) "  # noqa: S608
                "ON CONFLICT (key) DO UPDATE SET count = excluded.count, expires_at = excluded.expires_at",
                [key, int(value), self._expiry(timeout)],
            )

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version)
        with connection.cursor() as cursor:
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
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET expires_at = %s WHERE key = %s",  # noqa: S608
                [self._expiry(timeout), key],
            )
            return cursor.rowcount == 1

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE key = %s", [key])  # noqa: S608
            return cursor.rowcount == 1

    def has_key(self, key, version=None):
        return self.get(key, version=version) is not None

    def clear(self):
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
