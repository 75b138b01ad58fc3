"""Benchmark: session checks and sign-ins against `everything-app serve` on PostgreSQL.

Prints requests/s and p50/p99 latency of `GET /api/auth/get-session` with a cookie and with an
API key at 64 concurrent keep-alive connections, sign-ins per second, and the p99 of
get-session while sign-ins run flat out (argon2 hashing must not stall other requests).

The load generator is a minimal HTTP/1.1 keep-alive client on asyncio streams (an HTTP library
would cost more CPU than the server on this 2-core machine). It shares the machine with the
server, so the figures are a floor, not a ceiling.

    .venv/bin/python bench/auth.py --seconds 10 [--workers 1] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import time
import uuid

import httpx
from support import Stats, drop_database, fresh_database, request, start_server, wait_ready

HOST, PORT = "127.0.0.1", 8799
PASSWORD = "benchmark password"  # noqa: S105 - a throwaway bench account


def _get(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{PORT}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _post(path: str, body: dict[str, str]) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    return head + data


async def _worker(make_request: object, stop_at: float, stats: Stats) -> None:
    assert callable(make_request)
    reader, writer = await asyncio.open_connection(HOST, PORT)
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            status, _ = await request(reader, writer, make_request())
            if status == 200:
                stats.latencies.append(time.perf_counter() - started)
            else:
                stats.errors += 1
    finally:
        writer.close()


async def _run(
    name: str, make_request: object, connections: int, seconds: float
) -> tuple[str, Stats]:
    stats = Stats()
    stop_at = time.perf_counter() + seconds
    await asyncio.gather(*(_worker(make_request, stop_at, stats) for _ in range(connections)))
    return stats.report(name, seconds), stats


def _start_server(database_url: str, workers: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = {
        "DATABASE_URL": database_url,
        "DATA_DIR": data_dir,
        "BASE_URL": f"http://{HOST}:{PORT}",
        # The benchmark measures throughput, so the abuse limits are lifted.
        "RATE_LIMIT_SIGN_IN_IP": "1000000/minute",
        "RATE_LIMIT_SIGN_IN_EMAIL_FAILURES": "1000000/minute",
        "RATE_LIMIT_SIGN_UP_IP": "1000000/minute",
    }
    return start_server(PORT, env, host=HOST, workers=workers)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    database_url = args.database_url or await fresh_database()
    import tempfile

    with tempfile.TemporaryDirectory() as data_dir:
        server = _start_server(database_url, args.workers, data_dir)
        try:
            await wait_ready(f"http://{HOST}:{PORT}/readyz")
            origin = {"Origin": f"http://{HOST}:{PORT}"}
            async with httpx.AsyncClient(
                base_url=f"http://{HOST}:{PORT}", headers=origin
            ) as client:
                email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
                signed = await client.post(
                    "/api/auth/sign-up/email",
                    json={"email": email, "password": PASSWORD, "name": "Bench"},
                )
                token = signed.json()["token"]
                cookie = signed.headers["set-cookie"].split(";")[0]
                key = (
                    await client.post(
                        "/api/keys",
                        json={"name": "bench"},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                ).json()["key"]

            print(f"everything-app serve --workers {args.workers} on PostgreSQL, "
                  f"{args.connections} connections, {args.seconds:.0f} s per run, "
                  f"{os.cpu_count()} cores shared with the load generator")  # fmt: skip
            cookie_req = _get("/api/auth/get-session", {"Cookie": cookie})
            key_req = _get("/api/auth/get-session", {"Authorization": f"Bearer {key}"})
            sign_in_req = _post("/api/auth/sign-in/email", {"email": email, "password": PASSWORD})

            for name, raw in (
                ("get-session (cookie)", cookie_req),
                ("get-session (API key)", key_req),
            ):
                line, _ = await _run(name, lambda raw=raw: raw, args.connections, args.seconds)
                print(line)
            line, _ = await _run("sign-in", lambda: sign_in_req, args.connections, args.seconds)
            print(line)

            # Mixed: sign-ins flat out on 32 connections while 32 others check sessions.
            half = max(1, args.connections // 2)
            (sign_line, _), (session_line, _) = await asyncio.gather(
                _run("  sign-in (mixed)", lambda: sign_in_req, half, args.seconds),
                _run("  get-session during sign-ins", lambda: cookie_req, half, args.seconds),
            )
            print("mixed load:")
            print(sign_line)
            print(session_line)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    if not args.database_url:
        await drop_database(database_url)


if __name__ == "__main__":
    asyncio.run(main())
