"""Benchmark: bearer JWTs from an external OIDC issuer against `everything-app serve`.

Prints requests/s and p50/p99 of `GET /api/auth/get-session` with
- one JWT, repeated (the verified-credential cache: no signature check, no query),
- a new JWT of one subject on every request (signature check + the subject's link read),
- a new subject on every request (first sight: a user and its link are created),
next to the same request with a session token, for scale. The issuer is the stand-in from
`everything_app.testing` (RS256), served in this process; its JWKS is fetched once.

    .venv/bin/python bench/oidc.py --seconds 5 [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator

import httpx
from support import Stats, drop_database, fresh_database, request, start_server, wait_ready

from everything_app.testing import OidcIssuerStandin

HOST, PORT = "127.0.0.1", 8798
AUDIENCE = "bench-api"


def _get(token: str) -> bytes:
    return (
        f"GET /api/auth/get-session HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    ).encode()


async def _worker(tokens: Iterator[bytes], stop_at: float, stats: Stats) -> None:
    reader, writer = await asyncio.open_connection(HOST, PORT)
    try:
        for raw in tokens:
            if time.perf_counter() >= stop_at:
                break
            started = time.perf_counter()
            status, _ = await request(reader, writer, raw)
            if status == 200:
                stats.latencies.append(time.perf_counter() - started)
            else:
                stats.errors += 1
    finally:
        writer.close()


async def _run(name: str, tokens: Iterator[bytes], connections: int, seconds: float) -> str:
    stats = Stats()
    started = time.perf_counter()
    await asyncio.gather(*(_worker(tokens, started + seconds, stats) for _ in range(connections)))
    return stats.report(name, min(seconds, time.perf_counter() - started))


def _forever(raw: bytes) -> Iterator[bytes]:
    while True:
        yield raw


def _server(database_url: str, data_dir: str, issuer: str) -> subprocess.Popen[bytes]:
    env = {
        "DATABASE_URL": database_url,
        "DATA_DIR": data_dir,
        "BASE_URL": f"http://{HOST}:{PORT}",
        "OIDC_ISSUERS": f'[{{"issuer": "{issuer}", "audience": "{AUDIENCE}"}}]',
        "RATE_LIMIT_SIGN_UP_IP": "1000000/minute",
    }
    return start_server(PORT, env, host=HOST, workers=1)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=3000, help="pre-signed per fresh run")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    database_url = args.database_url or await fresh_database()
    standin = OidcIssuerStandin()
    async with standin.running() as issuer:
        with tempfile.TemporaryDirectory() as data_dir:
            server = _server(database_url, data_dir, issuer)
            try:
                await wait_ready(f"http://{HOST}:{PORT}/readyz")
                async with httpx.AsyncClient(base_url=f"http://{HOST}:{PORT}") as client:
                    signed = await client.post(
                        "/api/auth/sign-up/email",
                        json={
                            "email": f"b-{uuid.uuid4().hex[:8]}@example.com",
                            "password": "benchmark password",
                        },
                    )
                session = signed.json()["token"]
                one = standin.issue(sub="bench-user", aud=AUDIENCE, expires_in=3600)
                same_subject = iter(
                    [
                        _get(standin.issue(sub="bench-user", aud=AUDIENCE, jti=str(i)))
                        for i in range(args.tokens)
                    ]
                )
                new_subjects = iter(
                    [
                        _get(standin.issue(sub=f"s-{uuid.uuid4().hex}", aud=AUDIENCE))
                        for _ in range(args.tokens)
                    ]
                )
                print(
                    f"everything-app serve on {database_url.split(':')[0]}, "
                    f"{args.connections} connections, up to {args.seconds:.0f} s per run "
                    f"(fresh-token runs end when {args.tokens} pre-signed tokens are used), "
                    f"{os.cpu_count()} cores shared with the load generator"
                )
                runs = (
                    ("get-session (session token)", _forever(_get(session))),
                    ("get-session (one JWT, cached)", _forever(_get(one))),
                    ("get-session (new JWT each time)", same_subject),
                    ("get-session (new subject each time)", new_subjects),
                )
                for name, tokens in runs:
                    print(await _run(name, tokens, args.connections, args.seconds))
                print(f"JWKS fetches: {standin.jwks_requests}")
            finally:
                server.send_signal(signal.SIGINT)
                server.wait(timeout=30)
    if not args.database_url:
        await drop_database(database_url)


if __name__ == "__main__":
    asyncio.run(main())
