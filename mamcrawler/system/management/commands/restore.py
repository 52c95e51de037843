"""``manage.py restore FILE [--force]``: load a backup archive into this database.

Meant for a freshly migrated database (``manage.py migrate``, nothing else): the command
refuses when a table a backup holds already has rows, unless ``--force``, which deletes
those rows first (it never merges).  It also refuses an archive made by a newer schema
(a migration this code does not know) and a corrupt archive (a data file whose SHA-256
differs from the manifest).  Everything happens in one transaction: a refusal or an error
leaves the database as it was.  Secrets that live in the environment (``MAM_SESSION_ID``,
qBittorrent and Audiobookshelf credentials) are not in the archive; set them again.
"""

from django.core.management.base import BaseCommand, CommandError

from mamcrawler.backup.exceptions import BackupError
from mamcrawler.backup.services import backup_restore


class Command(BaseCommand):
    help = "Restore a backup archive (made by manage.py backup) into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The backup archive (.zip).")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Delete the rows of every backed-up table first, instead of refusing a non-empty database.",
        )

    def handle(self, *args, **options):
        verbose = options["verbosity"] >= 1

        def progress(label: str, rows: int) -> None:
            if verbose:
                self.stdout.write(f"  {label}: {rows} rows")

        if verbose:
            self.stdout.write(
                f"Restoring {options['file']}" + (" (--force: existing rows are deleted)" if options["force"] else "")
            )
        try:
            result = backup_restore(options["file"], force=options["force"], progress=progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        for note in result["notes"]:
            self.stdout.write(self.style.WARNING(f"Older schema: {note}; fields added since take their defaults."))
        counts = result["counts"]
        manifest = result["manifest"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {sum(counts.values())} rows in {len(counts)} tables "
                f"(backup of {manifest.get('created_at')}, MAMcrawler {manifest.get('app_version')})."
            )
        )
