"""Backup and restore of a whole instance into one archive (issue 9).

``services.backup_write`` writes a zip holding one JSONL file per included model and a
``manifest.json``; ``services.backup_restore`` loads such an archive into an empty
database.  ``catalog`` decides which tables belong in a backup.
"""
