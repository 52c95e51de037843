"""Why a backup or a restore cannot go ahead."""

from __future__ import annotations


class BackupError(Exception):
    """Base of every refusal; the message says what to do."""


class ArchiveCorrupt(BackupError):
    """The archive is not a MAMcrawler backup, or a data file does not match its SHA-256."""


class SchemaMismatch(BackupError):
    """The archive needs migrations this code does not know (newer schema) or has not applied."""


class DatabaseNotEmpty(BackupError):
    """Restoring would mix the archive with rows already in the database."""
