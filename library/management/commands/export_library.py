"""``manage.py export_library``: write the library as a JSON or CSV file (SPEC §9)."""

from django.core.management.base import BaseCommand, CommandError

from library.models import Book
from library.services.transfer import library_export_stream
from library.transfer_format import FORMATS


class Command(BaseCommand):
    help = "Export the library (books, authors, series, narrators) as JSON or CSV, to stdout or a file."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=FORMATS, default="json", help="json (default) or csv.")
        parser.add_argument("--output", "-o", default="-", help="File to write (default: stdout).")

    def handle(self, *args, format, output, **options):
        chunks = library_export_stream(fmt=format)
        if output == "-":
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            return
        try:
            # newline="": the CSV writer ends rows with \r\n itself.
            with open(output, "w", encoding="utf-8", newline="") as file:
                for chunk in chunks:
                    file.write(chunk)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror or exc}.")
        self.stdout.write(f"Exported {Book.objects.count()} books to {output} ({format}).")
