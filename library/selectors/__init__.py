"""Reads from the library. Import from the submodules (``library.selectors.books`` …)."""
