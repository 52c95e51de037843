"""Clients of the external services the library talks to (Audiobookshelf, …).

Every client derives from ``base.HttpClient`` and raises only ``ExternalApiError``.
"""
