"""The eight throttle tiers of SPEC §6.3, one DRF throttle class per tier.

Counters are fixed windows, opened by a principal's first request, in the ``counters``
cache, which every server process shares: Redis when ``REDIS_URL`` is set (one server-side
script around ``INCR``), otherwise one atomic upsert (``mamcrawler.system.cache``: a SQLite file
of their own on SQLite, the database on PostgreSQL).
Authenticated tiers count per principal (API key or user), ``public`` per client IP.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.commands.core import Script
from rest_framework.throttling import BaseThrottle

from mamcrawler.accounts.models import ApiKey

_DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"60/minute"`` → (60, 60); ``"20/hour"`` → (20, 3600)."""
    number, _, period = rate.partition("/")
    if not number.strip().isdigit() or not period:
        raise ValueError(f"Rate {rate!r} must look like 60/minute.")
    unit = period.strip().lower()
    if unit[0].isdigit():
        amount = int("".join(ch for ch in unit if ch.isdigit()))
        unit = unit.lstrip("0123456789")
    else:
        amount = 1
    if not unit or unit[0] not in _DURATIONS:
        raise ValueError(f"Rate {rate!r}: period must be second, minute, hour or day.")
    return int(number), amount * _DURATIONS[unit[0]]


def count_request(key: str, *, duration: int) -> tuple[int, float]:
    """Add one request to ``key``; return the window's count and when the window ends.

    A window opens at the principal's first request and lasts ``duration`` seconds, so
    the wait announced on a 429 is the real one (an hourly tier can say 3599).
    """
    counters = caches["counters"]
    if hasattr(counters, "count"):
        return counters.count(key, duration)
    if isinstance(counters, RedisCache):
        return _count_in_redis(counters, key, duration)
    now = time.time()
    counters.add(f"{key}:start", now, timeout=duration)
    counters.add(key, 0, timeout=duration)
    try:
        count = counters.incr(key)
    except ValueError:  # expired between add and incr
        counters.add(key, 1, timeout=duration)
        count = 1
    start = counters.get(f"{key}:start") or now
    return count, float(start) + duration


# KEYS: the counter and its window's opening time; ARGV: now and the window's length.
# Called by its SHA on whichever client is passed; loaded again on a server that lacks it.
_COUNT_SCRIPT = Script(
    None,
    b"""
redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', ARGV[2])
redis.call('SET', KEYS[1], 0, 'NX', 'EX', ARGV[2])
return {redis.call('INCR', KEYS[1]), redis.call('GET', KEYS[2])}
""",
)


def _count_in_redis(counters: RedisCache, key: str, duration: int) -> tuple[int, float]:
    """``count_request`` on Redis: one server-side script, so one command and one reply.

    Measured by ``bench/load.py``: the four separate commands (add, add, incr, get) were a
    visible share of an API read under load, and even as one MULTI/EXEC pipeline packing
    six commands and parsing six replies cost about 0.2 ms a request in redis-py. The
    window's start is kept as plain text under ``<key>:opened`` (the cache API would
    pickle it).
    """
    full_key = counters.make_and_validate_key(key)
    # Django builds a new redis-py client on every get_client() (about 60 µs); writes always
    # go to the first server, so one client per cache instance serves every count.
    client = getattr(counters, "_counting_client", None)
    if client is None:
        client = counters._counting_client = counters._cache.get_client(full_key, write=True)
    count, start = _COUNT_SCRIPT(
        keys=[full_key, f"{full_key}:opened"], args=[repr(time.time()), duration], client=client
    )
    return int(count), (float(start) if start is not None else time.time()) + duration


class TierThrottle(BaseThrottle):
    """Fixed-window throttle for one tier; subclasses set ``scope``."""

    scope: str = ""

    def __init__(self):
        self.limit, self.duration = parse_rate(settings.THROTTLE_RATES[self.scope])
        self.count = 0
        self.window_end = 0.0

    def principal(self, request) -> str:
        if isinstance(request.auth, ApiKey):
            return f"key:{request.auth.pk}"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{self.get_ident(request)}"

    def allow_request(self, request, view):
        key = f"throttle:{self.scope}:{self.principal(request)}"
        self.count, self.window_end = count_request(key, duration=self.duration)
        return self.count <= self.limit

    def wait(self):
        return max(1, math.ceil(self.window_end - time.time()))

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.count)),
            "X-RateLimit-Reset": str(int(math.ceil(self.window_end))),
        }


class PublicThrottle(TierThrottle):
    """Tier 1: health, schema and docs, per client IP."""

    scope = "public"

    def principal(self, request) -> str:
        return f"ip:{self.get_ident(request)}"


class ReadThrottle(TierThrottle):
    """Tier 2: authenticated reads not in another tier."""

    scope = "read"


class WriteThrottle(TierThrottle):
    """Tier 3: authenticated writes not in another tier."""

    scope = "write"


class DownloadThrottle(TierThrottle):
    """Tier 4: queuing downloads."""

    scope = "download"


class MetadataThrottle(TierThrottle):
    """Tier 5: metadata endpoints."""

    scope = "metadata"


class SearchThrottle(TierThrottle):
    """Tier 6: searches that may reach external services."""

    scope = "search"


class AdminThrottle(TierThrottle):
    """Tier 7: admin endpoints."""

    scope = "admin"


class UploadThrottle(TierThrottle):
    """Tier 8: file uploads."""

    scope = "upload"


TIERS = {
    cls.scope: cls
    for cls in (
        PublicThrottle,
        ReadThrottle,
        WriteThrottle,
        DownloadThrottle,
        MetadataThrottle,
        SearchThrottle,
        AdminThrottle,
        UploadThrottle,
    )
}


class TieredThrottleMixin:
    """Gives every view exactly one tier and the ``X-RateLimit-*`` headers.

    A view (or an ``@action(throttle_tier=...)``) names its tier; otherwise reads count
    against ``read`` and writes against ``write``.
    """

    throttle_tier: str | None = None

    def get_throttle_tier(self) -> str:
        if self.throttle_tier:
            return self.throttle_tier
        return "read" if self.request.method in ("GET", "HEAD", "OPTIONS") else "write"

    def get_throttles(self):
        self._tier_throttle = TIERS[self.get_throttle_tier()]()
        return [self._tier_throttle]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        throttle = getattr(self, "_tier_throttle", None)
        if throttle is not None and throttle.window_end:
            for name, value in throttle.headers().items():
                response[name] = value
        return response
