"""Benchmark: the server's event loop, EVENT_LOOP=asyncio against uvloop, on each database.

Starts `everything-app serve` once per loop (one worker each), on PostgreSQL and then on the
embedded SQLite, signs a user up,
gives them 200 tasks, then loads `GET /api/auth/get-session` and `GET /api/tasks?limit=50`
with wrk (Debian's `wrk` package; 2 threads, 64 keep-alive connections) in alternating
rounds, and prints req/s, p50 and p99 per loop and path. Read the ratios of one run: the
machine is shared.

Why it exists: under saturation uvloop served some connections far later than others, at
about the same req/s, which is why the standard loop is the default (on every path since the
SQLite task list's reads stopped waiting on aiosqlite's threads: core.sqlite_calls).

    .venv/bin/python bench/loops.py [--rounds 3] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import tempfile

import httpx
from support import drop_database, fresh_database, sign_up, start_server, stop_processes, wait_ready

LOOPS = ("asyncio", "uvloop")
PATHS = ("/api/auth/get-session", "/api/tasks?limit=50")
PORTS = {"asyncio": 8791, "uvloop": 8792}


def wrk(url: str, token: str, seconds: int) -> dict[str, float]:
    header = f"Authorization: Bearer {token}"
    command = ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", "-H", header, url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"\s50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if rate is None or p50 is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "rps": float(rate.group(1)),
        "p50": float(p50.group(1)) * scale[p50.group(2)],
        "p99": float(p99.group(1)) * scale[p99.group(2)],
        "errors": float(errors.group(1)) if errors else 0.0,
    }


async def prepare(base: str) -> str:
    """A user with 200 tasks on the server at `base`; their bearer token."""
    async with httpx.AsyncClient(base_url=base, headers={"Origin": base}) as client:
        token = await sign_up(client)
        auth = {"Authorization": f"Bearer {token}"}
        for number in range(200):
            response = await client.post(
                "/api/tasks", json={"title": f"Task {number}"}, headers=auth
            )
            response.raise_for_status()
    return token


async def measure(database: str, rounds: int, seconds: int) -> None:
    """Both loops on `database` ("postgresql" or "sqlite"), alternating, medians printed."""
    databases = {loop: await fresh_database() for loop in LOOPS} if database == "postgresql" else {}
    servers = []
    try:
        tokens = {}
        for loop in LOOPS:
            base = f"http://127.0.0.1:{PORTS[loop]}"
            env = {
                "EVENT_LOOP": loop,
                "BASE_URL": base,
                "DATA_DIR": tempfile.mkdtemp(prefix=f"bench-loops-{loop}-"),
            }
            if loop in databases:
                env["DATABASE_URL"] = databases[loop].replace("postgresql:", "postgresql+asyncpg:")
            servers.append(start_server(PORTS[loop], env))
            await wait_ready(f"{base}/readyz")
            tokens[loop] = await prepare(base)
        for path in PATHS:
            runs: dict[str, list[dict[str, float]]] = {loop: [] for loop in LOOPS}
            for loop in LOOPS:  # warm-up
                wrk(f"http://127.0.0.1:{PORTS[loop]}{path}", tokens[loop], 3)
            for _ in range(rounds):
                for loop in LOOPS:
                    url = f"http://127.0.0.1:{PORTS[loop]}{path}"
                    runs[loop].append(wrk(url, tokens[loop], seconds))
            print(f"{database}: GET {path} (64 connections, {rounds} x {seconds} s, medians)")
            for loop in LOOPS:
                median = {k: statistics.median(r[k] for r in runs[loop]) for k in runs[loop][0]}
                print(
                    f"  {loop:<8} {median['rps']:8,.0f} req/s  p50 {median['p50']:7.1f} ms"
                    f"  p99 {median['p99']:7.1f} ms  non-2xx {median['errors']:.0f}"
                )
    finally:
        stop_processes(servers)
        for url in databases.values():
            await drop_database(url)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/loops.py needs wrk (apt-get install wrk)")
    for database in ("postgresql", "sqlite"):
        await measure(database, args.rounds, args.seconds)


if __name__ == "__main__":
    asyncio.run(main())
