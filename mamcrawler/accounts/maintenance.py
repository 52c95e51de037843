"""Maintenance services of the admin API (``/api/v1/admin/cache/clear/``)."""

from __future__ import annotations

import logging

from django.core.cache import caches

from library.providers.registry import provider_cache_cleanup

logger = logging.getLogger("mamcrawler.accounts")


def cache_clear(*, providers: bool = False) -> dict:
    """Empty the ``default`` cache and, with ``providers``, every ProviderCache row.

    The ``counters`` cache (throttle and login-attempt counters) is never touched: clearing it
    would lift every rate limit. Side effects: cache entries and ProviderCache rows deleted.
    """
    caches["default"].clear()
    cleared = ["default"]
    deleted = None
    if providers:
        deleted = provider_cache_cleanup(older_than_days=0)
        cleared.append("providers")
    logger.info("Cleared caches %s (provider entries deleted: %s).", ", ".join(cleared), deleted)
    return {"cleared": cleared, "provider_entries_deleted": deleted}
