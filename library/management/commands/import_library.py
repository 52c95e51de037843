"""``manage.py import_library FILE``: import a library file made by ``export_library`` (SPEC §9)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from library.services.transfer import ImportReport, library_import
from library.transfer_format import FORMATS, LibraryFileError

MAX_ERRORS_SHOWN = 50


class Command(BaseCommand):
    help = (
        "Import a JSON or CSV library file: books matched by abs_id, ISBN, ASIN or title are updated, others created."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The file to import.")
        parser.add_argument("--format", choices=FORMATS, help="json or csv (default: from the extension or content).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Import in a transaction that is rolled back; print the report."
        )

    def handle(self, *args, file, format, dry_run, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.")
        bar = None
        if options["verbosity"] >= 1 and self.stdout.isatty():
            bar = tqdm(total=0, unit="book", file=self.stdout._out, leave=False)
        try:
            report = library_import(
                data=data, fmt=format, filename=path.name, dry_run=dry_run, progress=_advance(bar) if bar else None
            )
        except LibraryFileError as exc:
            problems = "\n".join(f"  {problem}" for problem in exc.problems[:MAX_ERRORS_SHOWN])
            raise CommandError(f"{file} is not a library file:\n{problems}")
        finally:
            if bar is not None:
                bar.close()
        self._print(report)

    def _print(self, report: ImportReport) -> None:
        prefix = "Dry run (nothing saved): would have " if report.dry_run else ""
        self.stdout.write(
            f"{prefix}books: {report.created} created, {report.updated} updated, {report.unchanged} unchanged; "
            f"authors: {report.authors.created} created, {report.authors.updated} updated; "
            f"series: {report.series.created} created, {report.series.updated} updated; "
            f"{len(report.errors)} skipped with errors."
        )
        for error in report.errors[:MAX_ERRORS_SHOWN]:
            where = ".".join(map(str, error["loc"]))
            row = f"row {error['row']}" if error["row"] is not None else ""
            self.stderr.write(f"  {' '.join(part for part in (row, where) if part)}: {error['msg']}")
        if len(report.errors) > MAX_ERRORS_SHOWN:
            self.stderr.write(f"  … and {len(report.errors) - MAX_ERRORS_SHOWN} more.")


def _advance(bar):
    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return progress
