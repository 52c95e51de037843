"""API bench (SPEC §12): the books list against its data-access floor under load, and query counts.

    python -m bench.load [--database sqlite|postgresql] [--concurrency 32] [--warmup 3] [--duration 15]

On a throw-away database (``bench.library``: a temporary SQLite file, or a fresh PostgreSQL
database created and dropped here; skipped with a message when no server answers):

1. generates the SPEC §12 library (10,000 books, 2,000 authors, 1,500 series) and an API key;
2. starts gunicorn as the Dockerfile does (``mamcrawler.wsgi``, 2 sync workers) on 127.0.0.1
   with ``bench.settings`` (the project plus the floor route), throttling on with a high
   ``read`` rate; throttle counters in Redis when it answers (how several workers share a
   budget, the docker-compose deployment), or with ``--counters db`` in the database (the
   ``make run`` deployment: one extra database write per request, reported apart as
   ``<vendor>/db-counters``);
3. checks that ``/api/v1/books/?limit=50`` and the floor (``bench.floor``) answer the same
   JSON (first, a middle and the last page), then drives each for the same time with
   ``--concurrency`` clients from a separate process (``bench.client``), in alternating rounds;
4. adds gaps, downloads, corrections and job runs, and records the SQL queries of every list
   endpoint at 3 and 30 rows (``bench.queries``).

Prints tables and merges ``"api"`` → vendor and ``"queries"`` → vendor into results.json.
Target: books-list requests/s ÷ floor requests/s ≥ 0.5.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.library import (
    ROOT,
    NoServer,
    bench_api_key,
    bench_database,
    generate,
    generate_activity,
    setup_django,
)

RESULTS = ROOT / "bench" / "results.json"
API_PATH = "/api/v1/books/"
TARGET_RATIO = 0.5
WORKERS = 2
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="Seconds of load before each round's measurement (default 2)."
    )
    parser.add_argument("--duration", type=float, default=15.0, help="Seconds measured per endpoint (default 15).")
    parser.add_argument("--rounds", type=int, default=5, help="Alternating rounds; each measures duration/rounds.")
    parser.add_argument("--books", type=int, default=10_000)
    parser.add_argument(
        "--counters",
        choices=("auto", "db", "redis"),
        default="auto",
        help="Throttle counters: auto = Redis when it answers (the multi-worker deployment), else the database.",
    )
    args = parser.parse_args(argv)
    try:
        with bench_database(args.database) as (url, workdir):
            return _run(args, url, workdir)
    except NoServer as exc:
        print(f"\nSkipping the PostgreSQL API bench: {exc}.", flush=True)
        result = {"database": "postgresql", "skipped": str(exc)}
        _save("api", result)
        return result


def _counters(choice: str, vendor: str) -> str:
    if choice == "db":
        return ""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis"
        if choice == "redis":
            raise SystemExit(f"Redis at {REDIS_URL} does not answer: {exc}") from exc
        print(f"Redis at {REDIS_URL} does not answer; throttle counters stay in the database.", flush=True)
        return ""
    return REDIS_URL


def _run(args, database_url: str, workdir: Path) -> dict:
    redis_url = _counters(args.counters, "sqlite" if database_url.startswith("sqlite") else "postgresql")
    os.environ["REDIS_URL"] = redis_url
    # Throttling stays on: every request still counts against its tier, which never trips.
    os.environ["THROTTLE_RATE_READ"] = "1000000/minute"
    os.environ["THROTTLE_RATE_ADMIN"] = "1000000/minute"
    os.environ["MAMCRAWLER_TESTING"] = "false"
    setup_django(database_url, workdir)
    if redis_url:
        from django.core.cache import caches

        caches["counters"].clear()
    from django.db import connection, connections

    from bench import queries
    from mamcrawler.accounts.models import User

    vendor = connection.vendor
    print(f"\nAPI bench on {vendor}: generating the library…", flush=True)
    started = time.perf_counter()
    shape = generate(books=args.books)
    generated = time.perf_counter() - started
    print(f"Generated in {generated:.1f}s: " + ", ".join(f"{value} {name}" for name, value in shape.items()))
    secret = bench_api_key()
    User.objects.create(username="bench-admin", role="admin")
    admin_secret = _admin_key()

    in_process = _in_process(secret)
    print(
        f"In-process (Django test client, one thread): books list {in_process['books_list_ms']} ms, "
        f"floor {in_process['floor_ms']} ms per request (ratio {in_process['ratio']})",
        flush=True,
    )
    connections.close_all()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = workdir / "gunicorn.log"
    server = _start_gunicorn(port, log)
    try:
        _wait_ready(base, server, log)
        checked = _check_same_pages(base, secret, shape["books"])
        print(f"Floor check: books list and floor answer the same JSON on {checked} pages.", flush=True)
        headers = ["--header", f"X-Api-Key: {secret}"]
        # Alternate short rounds so that any drift in the machine's load hits both alike.
        runs = {"books": [], "floor": []}
        for round_number in range(args.rounds):
            print(f"Round {round_number + 1}/{args.rounds}…", flush=True)
            runs["books"].append(_drive(f"{base}{API_PATH}?limit=50", headers, args))
            runs["floor"].append(_drive(f"{base}/bench/floor/books/?limit=50", [], args))
        books, floor = _merge(runs["books"]), _merge(runs["floor"])
    finally:
        _stop(server)
    # Query counts last: the gaps, downloads and runs they add would not change the books page.
    generate_activity()
    query_rows = queries.measure(admin_secret)
    queries.print_table(query_rows, vendor)
    _save("queries", {"database": vendor, "endpoints": query_rows})
    result = {
        "database": vendor,
        "library": shape,
        "generate_seconds": round(generated, 2),
        "server": f"gunicorn mamcrawler.wsgi --workers {WORKERS} (sync), bench.settings, DEBUG off",
        "throttle_counters": "redis" if redis_url else "database",
        # Results with counters in the database (one SQLite/PostgreSQL write per request) are kept apart.
        "key": vendor if redis_url else f"{vendor}/db-counters",
        "concurrency": args.concurrency,
        "books_list": books,
        "floor": floor,
        "ratio": round(books["requests_per_second"] / floor["requests_per_second"], 3)
        if floor["requests_per_second"]
        else None,
        "in_process": in_process,
        "targets": {"ratio": f">= {TARGET_RATIO}"},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    _print(result)
    _save("api", result)
    return result


def _in_process(secret: str, requests: int = 200, rounds: int = 3) -> dict:
    """CPU cost per request without HTTP or concurrency: best of ``rounds`` alternating runs.

    Less sensitive than the load test to other work on the machine; reported beside it.
    """
    from django.test import Client

    from bench.floor import FLOOR_PATH

    api, floor = Client(HTTP_X_API_KEY=secret), Client()
    calls = {
        "books_list_ms": lambda: api.get(API_PATH, {"limit": 50}),
        "floor_ms": lambda: floor.get(FLOOR_PATH, {"limit": 50}),
    }
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter()
            for _ in range(requests):
                call()
            best[name] = min(best[name], (time.perf_counter() - started) / requests * 1000)
    result = {name: round(value, 2) for name, value in best.items()}
    result["ratio"] = round(best["floor_ms"] / best["books_list_ms"], 3)
    return result


def _admin_key() -> str:
    from mamcrawler.accounts.models import User
    from mamcrawler.accounts.services import api_key_create

    _key, secret = api_key_create(user=User.objects.get(username="bench-admin"), name="bench", scopes=["read", "admin"])
    return secret


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_gunicorn(port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "mamcrawler.wsgi",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    with log.open("wb") as output:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and gunicorn
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )


def _wait_ready(base: str, server: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/bench/floor/books/?limit=1", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {timeout:g}s:\n{log.read_text()[-3000:]}")


def _check_same_pages(base: str, secret: str, books: int) -> int:
    """Assert the floor answers exactly what the books list answers, page by page."""
    import httpx

    from bench.floor import FLOOR_PATH

    offsets = [0, 50, max(0, books - 30)]
    with httpx.Client(base_url=base, timeout=30) as client:
        for offset in offsets:
            params = {"limit": 50, "offset": offset} if offset else {"limit": 50}
            api = client.get(API_PATH, params=params, headers={"X-Api-Key": secret})
            floor = client.get(FLOOR_PATH, params=params)
            assert api.status_code == 200, api.text[:500]
            assert floor.status_code == 200, floor.text[:500]
            expected = api.json()
            got = json.loads(floor.text.replace(FLOOR_PATH, API_PATH))
            assert got == expected, _first_difference(expected, got)
            assert expected["results"], "an empty page proves nothing"
    return len(offsets)


def _first_difference(expected: dict, got: dict) -> str:
    for key in ("count", "next", "previous"):
        if expected.get(key) != got.get(key):
            return f"{key}: API {expected.get(key)!r} != floor {got.get(key)!r}"
    for index, (row, other) in enumerate(zip(expected["results"], got["results"], strict=False)):
        for field in row.keys() | other.keys():
            if row.get(field) != other.get(field):
                return f"results[{index}].{field}: API {row.get(field)!r} != floor {other.get(field)!r}"
    return f"{len(expected['results'])} API rows, {len(got['results'])} floor rows"


def _drive(url: str, headers: list[str], args) -> dict:
    """Run ``bench.client`` in its own process against ``url`` for one round; returns its JSON."""
    duration = args.duration / args.rounds
    command = [sys.executable, "-m", "bench.client", url, *headers, "--raw"]
    command += ["--concurrency", str(args.concurrency), "--warmup", str(args.warmup), "--duration", str(duration)]
    print(f"  {url.split('?')[0]}: {args.warmup:g}s warm-up + {duration:g}s", flush=True)
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        command, cwd=ROOT, capture_output=True, text=True, timeout=args.warmup + duration + 60, check=False
    )
    if done.returncode:
        raise SystemExit(f"bench.client failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _merge(rounds: list[dict]) -> dict:
    """One result from several rounds: summed counts, percentiles over every latency."""
    from bench.client import _percentile

    latencies = sorted(value for item in rounds for value in item.pop("latencies_ms"))
    duration = sum(item["duration_seconds"] for item in rounds)
    ok = sum(item["ok"] for item in rounds)
    statuses: dict[str, int] = {}
    for item in rounds:
        for code, count in item["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    return {
        "url": rounds[0]["url"],
        "rounds": len(rounds),
        "warmup_seconds_per_round": rounds[0]["warmup_seconds"],
        "duration_seconds": duration,
        "requests": sum(item["requests"] for item in rounds),
        "ok": ok,
        "errors": sum(item["errors"] for item in rounds),
        "statuses": statuses,
        "requests_per_second": round(ok / duration, 1),
        "requests_per_second_by_round": [item["requests_per_second"] for item in rounds],
        "p50_ms": _percentile(latencies, 50, scale=1),
        "p95_ms": _percentile(latencies, 95, scale=1),
        "p99_ms": _percentile(latencies, 99, scale=1),
    }


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _print(result: dict) -> None:
    where = f"{result['database']}, throttle counters: {result.get('throttle_counters')}"
    print(f"\nGET /api/v1/books/?limit=50, {result['concurrency']} clients, {result['server']} ({where})")
    print(f"{'endpoint':<22} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, key in (("books list (DRF)", "books_list"), ("floor (SQL+JsonResp.)", "floor")):
        row = result[key]
        print(
            f"{name:<22} {row['requests_per_second']:>8.1f} {row['p50_ms']:>8} {row['p95_ms']:>8} "
            f"{row['p99_ms']:>8} {row['errors']:>7}"
        )
    print(f"ratio books list ÷ floor: {result['ratio']} (target >= {TARGET_RATIO})")
    by_round = zip(
        result["books_list"]["requests_per_second_by_round"],
        result["floor"]["requests_per_second_by_round"],
        strict=True,
    )
    print("ratio by round: " + ", ".join(f"{books / floor:.2f}" for books, floor in by_round if floor))
    in_process = result["in_process"]
    print(
        f"in-process ms per request: books list {in_process['books_list_ms']}, floor {in_process['floor_ms']} "
        f"(ratio {in_process['ratio']})"
    )


def _save(section: str, result: dict) -> None:
    try:
        results = json.loads(RESULTS.read_text())
    except (FileNotFoundError, ValueError):
        results = {}
    current = results.get(section) if isinstance(results.get(section), dict) else {}
    current = {key: value for key, value in current.items() if key.split("/")[0] in ("sqlite", "postgresql")}
    key = result.get("key", result["database"])
    current[key] = result
    results[section] = current
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"Wrote {RESULTS.relative_to(ROOT)} (key '{section}.{key}').", flush=True)


if __name__ == "__main__":
    main()
