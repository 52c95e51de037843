"""One table of every SPEC §12 measurement in ``bench/results.json`` (the end of ``make bench``).

    python -m bench.summary [--seconds N]

``--seconds`` is the whole bench's wall time, recorded under ``"total_seconds"``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


def _rows(results: dict) -> list[tuple[str, str, str, str]]:
    """``(measurement, database, value, target/verdict)`` rows."""
    rows = []
    for vendor, scan in sorted(results.get("scan", {}).items()):
        ratio, rescan = scan["first_scan_to_bare_walk"], scan["first_scan_to_rescan"]
        rows.append(
            (
                f"scan {scan['files']} files: first ÷ bare walk",
                vendor,
                f"{ratio}x ({scan['first_scan_files_per_second']} vs {scan['bare_walk_files_per_second']} files/s)",
                _verdict(ratio <= 1.5, "<= 1.5x"),
            )
        )
        rows.append(
            (
                "scan: first ÷ unchanged re-scan",
                vendor,
                f"{rescan}x ({scan['rescan_seconds']:.3f}s re-scan)",
                _verdict(rescan >= 10, ">= 10x"),
            )
        )
    for vendor, gaps in sorted(results.get("gaps", {}).items()):
        for size in gaps["sizes"]:
            rows.append(
                (
                    f"gap analysis {size['books']} books",
                    vendor,
                    f"{size['first_run_seconds']:.2f}s ({size['first_run_seconds_per_1k_books']:.3f}s per 1k)",
                    _verdict(size["first_run_seconds"] <= 10, "<= 10s") if size is gaps["sizes"][-1] else "",
                )
            )
        growth = gaps["growth_per_book_largest_to_smallest"]
        rows.append(("gap analysis: s per book, largest ÷ smallest", vendor, f"{growth}", "about 1 (linear)"))
    for vendor, api in sorted(results.get("api", {}).items()):
        if api.get("skipped"):
            rows.append(("books list ÷ floor", vendor, "skipped", api["skipped"][:60]))
            continue
        for name, key in (("books list", "books_list"), ("floor", "floor")):
            run = api[key]
            latency = f"p50/95/99 {run['p50_ms']}/{run['p95_ms']}/{run['p99_ms']} ms"
            value = f"{run['requests_per_second']:.1f} req/s, {latency}, {run['errors']} errors"
            rows.append((f"GET {name} ?limit=50, {api['concurrency']} clients", vendor, value, ""))
        # The db-counters run is the ``make run`` deployment: one database write a request for the throttle.
        verdict = _verdict(api["ratio"] >= 0.5, ">= 0.5")
        rows.append(("books list ÷ floor", vendor, f"{api['ratio']}", verdict))
        if "in_process" in api:
            cost = api["in_process"]
            value = f"{cost['books_list_ms']} vs {cost['floor_ms']} ms per request (ratio {cost['ratio']})"
            rows.append(("  same, in-process CPU cost (no HTTP)", vendor, value, "for reference"))
    for vendor, queries in sorted(results.get("queries", {}).items()):
        endpoints = queries["endpoints"]
        differing = [row["path"] for row in endpoints if "DIFFERS" in row["flags"]]
        full = sum(1 for row in endpoints if not row["flags"])
        rows.append(
            (
                "list endpoints: queries at 3 = at 30 rows",
                vendor,
                f"{len(endpoints) - len(differing)}/{len(endpoints)} constant ({full} with 30 rows to show)",
                _verdict(not differing, "all equal") + (f" differ: {', '.join(differing)}" if differing else ""),
            )
        )
    return rows


def _verdict(ok: bool, target: str) -> str:
    return f"{'ok' if ok else 'MISSED'} ({target})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, help="Wall time of the whole bench.")
    args = parser.parse_args(argv)
    try:
        results = json.loads(RESULTS.read_text())
    except (FileNotFoundError, ValueError):
        raise SystemExit(f"No results in {RESULTS}; run make bench.") from None
    if args.seconds is not None:
        results["total_seconds"] = args.seconds
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    rows = _rows(results)
    widths = [max(len(row[index]) for row in rows) for index in range(3)]
    print("\nSPEC §12 summary")
    header = ("measurement", "db", "value", "target")
    print("  ".join(text.ljust(width) for text, width in zip(header, widths, strict=False)) + "  target")
    for row in rows:
        print("  ".join(text.ljust(width) for text, width in zip(row, widths, strict=False)) + "  " + row[3])
    if "total_seconds" in results:
        print(f"bench wall time: {results['total_seconds']}s (target < 900s)")


if __name__ == "__main__":
    main()
