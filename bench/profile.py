"""Profile the books list and its floor in-process (cProfile, Django test client).

    python -m bench.profile [--database sqlite|postgresql] [--requests 300] [--top 40] [--floor]

Generates the SPEC §12 library in a throw-away database, then times ``--requests`` requests
of ``GET /api/v1/books/?limit=50`` (authenticated with an API key, throttling on) and of the
floor, prints milliseconds per request for both and the cProfile of the books list (or of
the floor with ``--floor``), sorted by cumulative then by internal time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time

from bench.library import NoServer, bench_api_key, bench_database, generate, setup_django


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--floor", action="store_true", help="Profile the floor instead of the books list.")
    args = parser.parse_args(argv)
    os.environ["THROTTLE_RATE_READ"] = "1000000/minute"
    os.environ["MAMCRAWLER_TESTING"] = "false"
    try:
        with bench_database(args.database) as (url, workdir):
            setup_django(url, workdir)
            generate()
            _profile(args, bench_api_key())
    except NoServer as exc:
        raise SystemExit(str(exc)) from exc


def _profile(args, secret: str) -> None:
    from django.test import Client

    from bench.floor import FLOOR_PATH

    api = Client(HTTP_X_API_KEY=secret)
    floor = Client()

    def books():
        assert api.get("/api/v1/books/", {"limit": 50}).status_code == 200

    def bottom():
        assert floor.get(FLOOR_PATH, {"limit": 50}).status_code == 200

    for name, call in (("books list", books), ("floor", bottom)):
        for _ in range(20):
            call()
        started = time.perf_counter()
        for _ in range(args.requests):
            call()
        print(f"{name}: {(time.perf_counter() - started) / args.requests * 1000:.2f} ms per request")
    target = bottom if args.floor else books
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.requests):
        target()
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
