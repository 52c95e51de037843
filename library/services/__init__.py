"""Writes to the library. Import from the submodules (``library.services.books`` …)."""
