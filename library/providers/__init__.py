"""Metadata providers behind one interface (SPEC §7.1).

``base.MetadataProvider`` and its records; one module per service (``openlibrary``,
``googlebooks``, ``hardcover``, ``audnexus``); ``registry`` asks them in order with the
ProviderCache and the circuit breaker (``circuit``) in between — callers use the registry.
"""
