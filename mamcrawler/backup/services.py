"""Backup and restore of a whole instance (issue 9).

``backup_write`` copies every table of ``catalog.included_models`` into one zip archive;
``backup_restore`` loads such an archive into an empty database; ``backup_run`` is the daily
``backup`` job, which also keeps only the newest ``BACKUP_KEEP`` archives in ``BACKUP_DIR``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

import mamcrawler
from mamcrawler.backup.archive import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    ArchiveSerializer,
    HashingWriter,
    data_file,
    file_sha256,
    manifest_dumps,
)
from mamcrawler.backup.catalog import SEEDED_MODELS, all_candidate_models, dependency_order, included_models
from mamcrawler.backup.exceptions import ArchiveCorrupt, DatabaseNotEmpty, SchemaMismatch

logger = logging.getLogger("mamcrawler.backup")

CHUNK_SIZE = 2000
ARCHIVE_PREFIX = "mamcrawler-backup-"
ARCHIVE_SUFFIX = ".zip"

Progress = Callable[[str, int], None]


# --- backup -------------------------------------------------------------------------------------


@contextmanager
def _snapshot() -> Iterator[None]:
    """Read every table from one consistent snapshot, without blocking writers.

    PostgreSQL: a REPEATABLE READ transaction.  SQLite: a deferred read transaction (WAL
    keeps its snapshot); Django's ``atomic`` would take the write lock (IMMEDIATE mode) for
    the whole backup.  Inside an outer transaction (tests), that transaction is the snapshot.
    """
    if connection.in_atomic_block:
        yield
        return
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("COMMIT")
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def applied_migrations() -> dict[str, str]:
    """The latest applied migration of each app, in the order they were applied."""
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder.Migration.objects.order_by("id").values_list("app", "name"):
        latest[app] = name
    return dict(sorted(latest.items()))


def backup_write(path, *, with_cache: bool = False, progress: Progress | None = None) -> dict:
    """Write a backup archive of this instance to ``path`` and return its manifest.

    The archive (a zip) holds ``data/<app>.<model>.jsonl`` for every model of
    ``catalog.included_models`` and ``manifest.json`` with the format and app versions, the
    database vendor, each app's latest applied migration and each file's row count and
    SHA-256.  ``progress(label, rows)`` is called after each table.
    Side effects: the file is written as ``<path>.partial`` and renamed when complete, with
    mode 0600 (it holds password hashes and torrent files).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    models = included_models(with_cache=with_cache)
    entries = []
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf, _snapshot():
            created_at = timezone.now()
            migrations = applied_migrations()
            for model in models:
                label = model._meta.label_lower
                name = data_file(label)
                serializer = ArchiveSerializer()
                with zf.open(name, "w", force_zip64=True) as raw:
                    sink = HashingWriter(raw)
                    rows = model._base_manager.order_by("pk").iterator(chunk_size=CHUNK_SIZE)
                    serializer.serialize(rows, stream=sink)
                entries.append({"model": label, "file": name, "rows": serializer.rows, "sha256": sink.hexdigest()})
                if progress is not None:
                    progress(label, serializer.rows)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "app_version": mamcrawler.__version__,
                "created_at": created_at.isoformat(),
                "database_vendor": connection.vendor,
                "with_cache": with_cache,
                "migrations": migrations,
                "models": entries,
            }
            zf.writestr(MANIFEST, manifest_dumps(manifest))
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    logger.info("Backup written to %s: %d rows in %d tables.", path, sum(e["rows"] for e in entries), len(entries))
    return manifest


def backups_prune(*, directory, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` archives named ``mamcrawler-backup-*.zip`` in ``directory``.

    ``keep`` 0 keeps everything.  Returns the names deleted; other files are never touched.
    """
    if keep <= 0:
        return []
    archives = sorted(p for p in Path(directory).glob(f"{ARCHIVE_PREFIX}*{ARCHIVE_SUFFIX}") if p.is_file())
    deleted = []
    for old in archives[:-keep]:
        old.unlink(missing_ok=True)
        deleted.append(old.name)
    if deleted:
        logger.info("Deleted %d old backups: %s", len(deleted), ", ".join(deleted))
    return deleted


def backup_default_path() -> Path:
    """A new archive path in ``BACKUP_DIR``; names sort by time (UTC, microseconds)."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
    return Path(settings.BACKUP_DIR) / f"{ARCHIVE_PREFIX}{stamp}{ARCHIVE_SUFFIX}"


def backup_run(*, job, output: str = "", with_cache: bool = False) -> dict:
    """The ``backup`` job: write an archive and keep the newest ``BACKUP_KEEP`` in ``BACKUP_DIR``.

    With ``output`` the archive goes there and nothing is pruned.
    """
    path = Path(output) if output else backup_default_path()
    if not output:
        Path(settings.BACKUP_DIR).mkdir(parents=True, exist_ok=True, mode=0o700)
    tables = len(included_models(with_cache=with_cache))
    done = 0

    def progress(label: str, rows: int) -> None:
        nonlocal done
        done += 1
        job.count(processed=rows, succeeded=rows)
        job.log("%s: %d rows", label, rows)
        job.progress(done, tables)
        job.check_cancelled()

    manifest = backup_write(path, with_cache=with_cache, progress=progress)
    pruned = [] if output else backups_prune(directory=settings.BACKUP_DIR, keep=settings.BACKUP_KEEP)
    rows = sum(entry["rows"] for entry in manifest["models"])
    job.log("Wrote %s (%d rows in %d tables).", path, rows, len(manifest["models"]))
    return {
        "archive": str(path),
        "size_bytes": path.stat().st_size,
        "tables": len(manifest["models"]),
        "rows": rows,
        "pruned": pruned,
    }


# --- restore ------------------------------------------------------------------------------------


def _read_manifest(zf: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(zf.read(MANIFEST))
    except KeyError:
        raise ArchiveCorrupt("Not a MAMcrawler backup: the archive has no manifest.json.") from None
    except ValueError as exc:
        raise ArchiveCorrupt(f"The manifest is not valid JSON: {exc}.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveCorrupt("Not a MAMcrawler backup: the manifest names another format.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise SchemaMismatch(
            f"Backup format version {manifest.get('format_version')!r} is not supported "
            f"(this code reads version {FORMAT_VERSION})."
        )
    if not isinstance(manifest.get("models"), list) or not isinstance(manifest.get("migrations"), dict):
        raise ArchiveCorrupt("The manifest lacks its models or migrations.")
    return manifest


def _archive_models(manifest: dict) -> dict[str, type]:
    """Model label → class for the archive's tables; refuses rows this installation cannot hold."""
    found = {}
    missing = []
    for entry in manifest["models"]:
        try:
            found[entry["model"]] = apps.get_model(entry["model"])
        except (LookupError, ValueError):
            if entry.get("rows"):
                missing.append(entry["model"])
    if missing:
        raise SchemaMismatch(
            f"The archive holds rows of {', '.join(missing)}, which this installation does not have "
            "(an app that is not installed here, or an archive from a newer schema)."
        )
    return found


def _check_schema(manifest: dict, model_labels) -> list[str]:
    """Refuse an archive made by a newer schema, or a database not migrated as far; return notes."""
    on_disk = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    applied = set(MigrationRecorder(connection).applied_migrations())
    current = applied_migrations()
    app_labels = {label.split(".")[0] for label in model_labels}
    newer, not_applied, notes = [], [], []
    for app, name in sorted(manifest["migrations"].items()):
        if app not in app_labels:
            continue
        if (app, name) not in on_disk:
            newer.append(f"{app}.{name}")
        elif (app, name) not in applied:
            not_applied.append(f"{app}.{name}")
        elif current.get(app) != name:
            notes.append(f"{app}: archive at {name}, database at {current.get(app)}")
    if newer:
        raise SchemaMismatch(
            f"The archive is from a newer schema: this code does not know the migrations {', '.join(newer)}. "
            "Upgrade MAMcrawler before restoring it."
        )
    if not_applied:
        raise SchemaMismatch(
            f"The database lacks migrations the archive was made with ({', '.join(not_applied)}): "
            "run manage.py migrate first."
        )
    return notes


def _verify(zf: zipfile.ZipFile, manifest: dict) -> None:
    for entry in manifest["models"]:
        try:
            digest = file_sha256(zf, entry["file"])
        except KeyError:
            raise ArchiveCorrupt(f"The archive lacks {entry['file']}.") from None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ArchiveCorrupt(f"{entry['file']} cannot be read: {exc}.") from None
        if digest != entry.get("sha256"):
            raise ArchiveCorrupt(f"{entry['file']} does not match its SHA-256 in the manifest: the archive is corrupt.")


def _rows_present(models) -> dict[str, int]:
    present = {}
    for model in models:
        if model._meta.label in SEEDED_MODELS:
            continue
        if model._base_manager.exists():
            present[model._meta.label_lower] = model._base_manager.count()
    return present


def _flush(models) -> None:
    """Empty ``models``' tables, and tables outside the backup whose rows point at them (JWT
    outstanding tokens, admin log entries, job locks): those rows would dangle."""
    tables = [model._meta.db_table for model in models]
    statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=False, allow_cascade=True)
    if not statements:
        return
    # PostgreSQL refuses to TRUNCATE a table with deferred foreign-key checks pending in this
    # transaction: run them now (the data is consistent), and defer again for the load.
    connection.check_constraints()
    connection.ops.execute_sql_flush(statements)


def _load(zf: zipfile.ZipFile, entry: dict, model) -> int:
    """Insert the rows of one data file in batches, as raw saves (no ``auto_now``, no signals)."""
    fields = [field for field in model._meta.local_concrete_fields if not field.generated]
    manager = model._base_manager
    batch_size = max(1, min(CHUNK_SIZE, connection.ops.bulk_batch_size(fields, [None] * CHUNK_SIZE)))
    loaded = 0
    batch = []
    with zf.open(entry["file"]) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8")
        # ignorenonexistent: a field an older archive has and this schema dropped is skipped.
        for item in serializers.deserialize("jsonl", text, ignorenonexistent=True):
            if item.object._meta.label_lower != entry["model"]:
                raise ArchiveCorrupt(f"{entry['file']} holds a row of {item.object._meta.label_lower}.")
            batch.append(item.object)
            if len(batch) >= batch_size:
                manager._insert(batch, fields=fields, raw=True, using=DEFAULT_DB_ALIAS)
                loaded += len(batch)
                batch = []
    if batch:
        manager._insert(batch, fields=fields, raw=True, using=DEFAULT_DB_ALIAS)
        loaded += len(batch)
    if loaded != entry.get("rows"):
        raise ArchiveCorrupt(f"{entry['file']} holds {loaded} rows; the manifest says {entry.get('rows')}.")
    return loaded


def backup_restore(path, *, force: bool = False, progress: Progress | None = None) -> dict:
    """Load the archive at ``path`` into this database and return rows loaded per model.

    Refuses (``BackupError`` subclasses, nothing changed): a file that is not a backup or whose
    data does not match its SHA-256 (``ArchiveCorrupt``); an archive naming a migration this
    code does not know, or one the database has not applied (``SchemaMismatch``); a database
    that already has rows in any table a backup holds (``DatabaseNotEmpty``) unless ``force``,
    which empties those tables first — it never merges.  django-q2 schedules, which
    ``migrate`` creates, are always replaced.
    Side effects, in one transaction: the tables are filled with the archive's rows (ids kept),
    foreign keys are checked, PostgreSQL sequences are moved past the highest ids, and
    ``schedules_sync`` reconciles the schedules with this code.
    """
    from scheduler.services import schedules_sync

    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveCorrupt(f"{path} is not a readable backup archive: {exc}.") from None
    with zf:
        manifest = _read_manifest(zf)
        by_label = _archive_models(manifest)
        notes = _check_schema(manifest, by_label)
        _verify(zf, manifest)
        entries = {entry["model"]: entry for entry in manifest["models"]}
        candidates = dependency_order(list({*all_candidate_models(), *by_label.values()}))
        order = dependency_order(list(by_label.values()))
        counts: dict[str, int] = {}
        with transaction.atomic():
            present = _rows_present(candidates)
            if present and not force:
                listing = ", ".join(f"{label} ({rows})" for label, rows in sorted(present.items()))
                raise DatabaseNotEmpty(
                    f"The database is not empty: {listing}. Restore into a freshly migrated database, "
                    "or pass --force to delete these rows first."
                )
            _flush(candidates if force else [m for m in candidates if m._meta.label in SEEDED_MODELS])
            with connection.constraint_checks_disabled():
                for model in order:
                    label = model._meta.label_lower
                    counts[label] = _load(zf, entries[label], model)
                    if progress is not None:
                        progress(label, counts[label])
            connection.check_constraints(table_names=[model._meta.db_table for model in order])
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), order):
                    cursor.execute(statement)
            schedules_sync()
    logger.info("Restored %d rows in %d tables from %s.", sum(counts.values()), len(counts), path)
    return {"counts": counts, "notes": notes, "manifest": {k: v for k, v in manifest.items() if k != "models"}}
