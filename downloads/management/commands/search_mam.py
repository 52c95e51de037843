"""``manage.py search_mam "title" [--author NAME] [--all]`` or ``search_mam --gap ID [--all]``: MAM results, ranked.

Ranking scores the title and the author (SPEC §8.2): without ``--author`` a row cannot reach
``MATCH_THRESHOLD`` on its title alone, so every row is listed as rejected (with ``--all``).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from downloads.account import account_state
from downloads.acquisition import gap_search, search_text
from downloads.integrations.mam import MamClient
from downloads.ranking import Candidate, Wanted, rank_candidates
from library.models import MissingBook
from mamcrawler.api.exceptions import ExternalApiError

COLUMNS = ("rank", "MAM id", "score", "cost", "allowed / hold reason", "format", "size", "seeders", "title")


def table(rows: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned columns as wide as their widest cell (the last column is not padded)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = []
    for row in rows:
        padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*padded, row[-1]]))
    return lines


def cells(rank: str, candidate: Candidate) -> tuple[str, ...]:
    verdict = "allowed" if candidate.allowed else candidate.hold_reason
    if candidate.rejected:
        verdict = f"rejected: {candidate.rejected}"
    return (
        rank,
        str(candidate.mam_torrent_id),
        str(candidate.score),
        candidate.cost,
        verdict,
        candidate.format or "-",
        filesizeformat(candidate.size_bytes).replace("\xa0", " "),
        str(candidate.seeders),
        candidate.title,
    )


class Command(BaseCommand):
    help = "Search MAM and print the ranked candidates with their cost and what the account guard says."

    def add_arguments(self, parser):
        parser.add_argument("query", nargs="?", default="", help="The title to search for.")
        parser.add_argument("--author", default="", help="The author wanted (scored, and added to the search).")
        parser.add_argument(
            "--gap",
            type=int,
            metavar="ID",
            help="Search for this gap (by its own title and author) and store the best candidate on it.",
        )
        parser.add_argument("--all", action="store_true", help="Also list rejected rows, with why.")

    def handle(self, *args, **options):
        query, gap_id = options["query"].strip(), options["gap"]
        if gap_id is not None and (query or options["author"]):
            raise CommandError("Give a query or --gap, not both: --gap searches with the gap's own title and author.")
        if gap_id is None and not query:
            raise CommandError("Give a query, or --gap ID.")
        gap = None
        if gap_id is not None:
            gap = MissingBook.objects.select_related("series", "primary_author").filter(pk=gap_id).first()
            if gap is None:
                raise CommandError(f"--gap: no gap with id {gap_id}.")
        try:
            with MamClient() as client:
                if gap is not None:
                    candidates = gap_search(gap=gap, client=client)
                else:
                    author = options["author"].strip()
                    wanted = Wanted(title=query, authors=[author] if author else [])
                    torrents = client.search(search_text(wanted))
                    candidates = rank_candidates(
                        wanted=wanted, torrents=torrents, account=account_state(), include_rejected=True
                    )
        except ExternalApiError as exc:
            raise CommandError(f"MAM: {exc.detail}")
        self.report(candidates, show_rejected=options["all"])
        if gap is not None:
            best = gap.best_candidate
            stored = f"best candidate MAM {best['mam_torrent_id']}" if best else "no acceptable candidate"
            self.stdout.write(f"Gap #{gap.pk} “{gap.title}”: {stored}; status {gap.status}.")

    def report(self, candidates: list[Candidate], *, show_rejected: bool) -> None:
        accepted = [candidate for candidate in candidates if not candidate.rejected]
        rejected = [candidate for candidate in candidates if candidate.rejected]
        rows = [cells(str(rank), candidate) for rank, candidate in enumerate(accepted, start=1)]
        if show_rejected:
            rows += [cells("-", candidate) for candidate in rejected]
        hidden = "" if show_rejected or not rejected else f" ({len(rejected)} rejected not shown; --all shows them)"
        self.stdout.write(f"{len(candidates)} result(s), {len(accepted)} acceptable{hidden}.")
        if rows:
            for line in table([COLUMNS, *rows]):
                self.stdout.write(line.rstrip())
