"""Benchmark: what /api/chat adds over the provider, and how history reads scale.

1. Streaming overhead. An OpenAI stand-in (own process) streams one word every DELAY ms. We
   measure time to first token (TTFT) and the gaps between tokens calling the stand-in
   directly, then through `POST /api/chat` (on PostgreSQL, which also stores the user message,
   the growing answer and its usage), at 1, 16 and 128 concurrent streams.
2. History. `GET /api/chat/history?limit=20` p50/p99 and requests/s at 32 connections with
   1 thousand, 100 thousand and 1 million stored messages (rows made with generate_series).

    .venv/bin/python bench/chat.py [--delay-ms 20] [--words 30] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg
import httpx
from support import (
    drop_database,
    fresh_database,
    pct,
    start_process,
    start_server,
    stop_processes,
    wait_ready,
)

HOST = "127.0.0.1"
APP_PORT, STANDIN_PORT = 8797, 8796
STANDIN_KEY = "sk-bench"


async def stream_once(
    port: int, path: str, body: Mapping[str, object], headers: dict[str, str], marker: bytes
) -> tuple[float, list[float]]:
    """POST and read the SSE body; returns TTFT and the gaps between token events."""
    reader, writer = await asyncio.open_connection(HOST, port)
    payload = json.dumps(body).encode()
    head = [f"POST {path} HTTP/1.1", f"Host: {HOST}:{port}", "Content-Type: application/json"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head += [f"Content-Length: {len(payload)}", "Connection: close"]
    started = time.perf_counter()
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
    token_times: list[float] = []
    buffer = b""
    while True:
        data = await reader.read(65536)
        if not data:
            break
        now = time.perf_counter()
        buffer += data
        *events, buffer = buffer.split(b"\n\n")
        token_times += [now for event in events if marker in event]
    writer.close()
    if not token_times:
        raise RuntimeError(f"no tokens from {path}")
    gaps = [b - a for a, b in itertools.pairwise(token_times)]
    return token_times[0] - started, gaps


async def measure(name: str, concurrency: int, make: object) -> None:
    assert callable(make)
    results = await asyncio.gather(*(make() for _ in range(concurrency)))
    ttfts = [r[0] for r in results]
    gaps = [g for r in results for g in r[1]]
    print(
        f"  {name:<28} x{concurrency:<4} TTFT p50 {pct(ttfts, 0.5):7.1f} ms"
        f"  p99 {pct(ttfts, 0.99):7.1f} ms | token gap p50 {pct(gaps, 0.5):6.1f} ms"
        f"  p99 {pct(gaps, 0.99):6.1f} ms"
    )


async def history_load(token: str, connections: int, seconds: float) -> str:
    latencies: list[float] = []
    errors = 0
    request = (
        f"GET /api/chat/history?limit=20 HTTP/1.1\r\nHost: {HOST}\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    ).encode()

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(HOST, APP_PORT)
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            if head[9:12] == b"200":
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return (
        f"{len(latencies) / seconds:,.0f} req/s, p50 {statistics.median(latencies) * 1000:.2f} ms, "
        f"p99 {pct(latencies, 0.99):.2f} ms, {errors} errors"
    )


async def fill_history(database_url: str, user_id: str, total: int) -> None:
    """Top the user's history up to `total` messages in one chat session (SQL, not HTTP)."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        have = await conn.fetchval(
            "SELECT count(*) FROM messages WHERE user_id = $1", uuid.UUID(user_id)
        )
        if have >= total:
            return
        session_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO chat_sessions (id, user_id, title, model, created_at, updated_at) "
            "VALUES ($1, $2, 'bench', 'offline', now(), now())",
            session_id,
            uuid.UUID(user_id),
        )
        await conn.execute(
            """INSERT INTO messages
                (id, session_id, user_id, role, content, model, status, created_at, updated_at)
            SELECT gen_random_uuid(), $1, $2, CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
                   'message number ' || i, NULL, 'complete',
                   now() - (i || ' seconds')::interval, now() - (i || ' seconds')::interval
            FROM generate_series(1, $3) AS i""",
            session_id,
            uuid.UUID(user_id),
            total - have,
        )
        await conn.execute("ANALYZE messages")
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", type=int, default=20)
    parser.add_argument("--words", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", default="1,16,128")
    parser.add_argument("--history-sizes", default="1000,100000,1000000")
    args = parser.parse_args()

    database_url = await fresh_database()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            standin = [
                sys.executable, "-m", "everything_app.ai.standins.openai_server",
                "--port", str(STANDIN_PORT), "--api-key", STANDIN_KEY,
            ]  # fmt: skip
            processes.append(start_process(standin))
            processes.append(
                start_server(
                    APP_PORT,
                    {
                        "DATABASE_URL": database_url,
                        "DATA_DIR": data_dir,
                        "LOG_LEVEL": "WARNING",
                        "OPENAI_API_KEY": STANDIN_KEY,
                        "OPENAI_BASE_URL": f"http://{HOST}:{STANDIN_PORT}/v1",
                        "RATE_LIMIT_CHAT_USER": "1000000/minute",
                        "CHAT_MAX_CONCURRENT_STREAMS": "1000",
                        "DB_POOL_SIZE": "40",
                    },
                )
            )
            await wait_ready(f"http://{HOST}:{STANDIN_PORT}/v1/models", any_answer=True)
            await wait_ready(f"http://{HOST}:{APP_PORT}/healthz")
            async with httpx.AsyncClient(base_url=f"http://{HOST}:{APP_PORT}") as client:
                signed = await client.post(
                    "/api/auth/sign-up/email",
                    json={
                        "email": f"bench-{uuid.uuid4().hex[:6]}@example.com",
                        "password": "bench password",
                        "name": "b",
                    },
                )
            token, user_id = signed.json()["token"], signed.json()["user"]["id"]
            words = " ".join(f"w{i}" for i in range(args.words - 1))
            prompt = f"[[slow:{args.delay_ms}]] {words}"

            def direct() -> object:
                body = {
                    "model": "gpt-4o-mini",
                    "stream": True,
                    "messages": [{"role": "user", "content": prompt}],
                }
                auth = {"Authorization": f"Bearer {STANDIN_KEY}"}
                return stream_once(STANDIN_PORT, "/v1/chat/completions", body, auth, b'"content"')

            def via_chat() -> Any:
                body = {"content": prompt, "model": "gpt-4o-mini"}
                auth = {"Authorization": f"Bearer {token}"}
                return stream_once(APP_PORT, "/api/chat", body, auth, b'"text-delta"')

            print(
                f"streaming: {args.words} tokens, {args.delay_ms} ms apart; app on PostgreSQL, "
                f"one worker, {os.cpu_count()} cores shared by stand-in, app, database "
                "and load generator"
            )
            await via_chat()  # warm up: the first call imports and builds the SDK client
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                await measure("stand-in directly", concurrency, direct)
                await measure("through POST /api/chat", concurrency, via_chat)

            print("history: GET /api/chat/history?limit=20, 32 connections")
            for size in (int(s) for s in args.history_sizes.split(",")):
                await fill_history(database_url, user_id, size)
                print(f"  {size:>9,} messages: {await history_load(token, 32, args.seconds)}")
    finally:
        stop_processes(processes)
        await drop_database(database_url)


if __name__ == "__main__":
    asyncio.run(main())
