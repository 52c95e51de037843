"""The load generator of the API bench: N concurrent clients hammering one URL for a fixed time.

    python -m bench.client URL [--header "X-Api-Key: …"] [--concurrency 32] [--warmup 3] [--duration 15]

Runs in its own process (so it never shares an interpreter with the server) and prints one
JSON object: requests/s, p50/p95/p99 latency in milliseconds, errors and statuses over the
measured window (requests finished during warm-up are not counted).

Each client is an asyncio task speaking plain HTTP/1.1 over a socket, one request per
connection (gunicorn's sync workers close the connection after each response anyway). A
full HTTP client library costs several times more CPU per request, and on a two-core machine
shared with the server that would slow the faster endpoint (the floor) most and flatter the
ratio. Only 127.0.0.1 is allowed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from urllib.parse import urlsplit


async def _one(host: str, port: int, request: bytes) -> tuple[int, int]:
    """Send ``request``; return the status code and the body size."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        data = await reader.read(-1)  # until the server closes the connection
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, len(body)


async def _client(host, port, request, warm_until, stop_at, latencies, statuses, errors) -> None:
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        if started >= stop_at:
            return
        try:
            status, _size = await _one(host, port, request)
        except (OSError, ValueError, IndexError) as exc:
            status, _size = None, 0
            error = type(exc).__name__
        finished = loop.time()
        if started < warm_until or finished > stop_at:
            continue
        if status is None:
            errors[error] = errors.get(error, 0) + 1
            continue
        statuses[status] = statuses.get(status, 0) + 1
        latencies.append(finished - started)


async def run(
    url: str, headers: dict[str, str], concurrency: int, warmup: float, duration: float, raw: bool = False
) -> dict:
    parts = urlsplit(url)
    if parts.hostname != "127.0.0.1":
        raise SystemExit("The bench client only talks to 127.0.0.1.")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    begin = loop.time()
    warm_until, stop_at = begin + warmup, begin + warmup + duration
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    await asyncio.wait_for(
        asyncio.gather(
            *(
                _client(parts.hostname, parts.port or 80, request, warm_until, stop_at, latencies, statuses, errors)
                for _ in range(concurrency)
            )
        ),
        timeout=warmup + duration + 30,
    )
    latencies.sort()
    ok = statuses.get(200, 0)
    failed = sum(errors.values()) + sum(n for code, n in statuses.items() if code != 200)
    return {
        "url": url,
        "concurrency": concurrency,
        "warmup_seconds": warmup,
        "duration_seconds": duration,
        "requests": len(latencies),
        "ok": ok,
        "errors": failed,
        "statuses": {str(code): n for code, n in sorted(statuses.items())},
        "exceptions": errors,
        "requests_per_second": round(ok / duration, 1),
        "p50_ms": _percentile(latencies, 50),
        "p95_ms": _percentile(latencies, 95),
        "p99_ms": _percentile(latencies, 99),
        **({"latencies_ms": [round(value * 1000, 2) for value in latencies]} if raw else {}),
    }


def _percentile(values: list[float], percent: int, scale: float = 1000) -> float | None:
    """Nearest-rank percentile of sorted ``values``, times ``scale`` (seconds → ms by default)."""
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(percent / 100 * len(values)) - 1))
    return round(values[index] * scale, 1)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--header", action="append", default=[], help='"Name: value"; repeatable.')
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--raw", action="store_true", help="Also print every latency (ms), for merging runs.")
    args = parser.parse_args(argv)
    headers = dict(item.split(":", 1) for item in args.header)
    headers = {name.strip(): value.strip() for name, value in headers.items()}
    result = asyncio.run(run(args.url, headers, args.concurrency, args.warmup, args.duration, args.raw))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
