"""Benchmark: streamed chat replies per second, what /api/chat adds over the provider, and how
history reads scale. The model is `bench/fake_model.py` (own process): an OpenAI-compatible
fake that streams N tokens D ms apart on a fixed schedule (model `fake-<N>x<D>ms`).

1. Replies. `POST /api/chat` with seed 001's body `{content, model: fake-64x5ms}`, each a new
   chat (so each also gets a title), from C connections in a closed loop for SECONDS: whole
   replies per second (200 and ending in `[DONE]`), p50/p99 time to the last byte, and
   refusals (429/503) counted apart, at 24 and 64 connections.
2. Streaming overhead. Time to first token (TTFT) and the gaps between tokens calling the fake
   directly, then through `POST /api/chat` (on PostgreSQL, which also stores the user message,
   the growing answer and its usage), at 1, 16 and 128 concurrent streams.
3. History. `GET /api/chat/history?limit=20` p50/p99 and requests/s at 32 connections with
   1 thousand, 100 thousand and 1 million stored messages (rows made with generate_series).

    .venv/bin/python bench/chat.py [--only replies] [--connections 24,64] [--seconds 15]
        [--env CHAT_MAX_GENERATIONS=32 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
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
APP_PORT, FAKE_PORT = 8787, 8786  # not another bench's
FAKE_MODEL = Path(__file__).with_name("fake_model.py")


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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): the server's cost, which
    other load on a shared machine does not change the way it changes replies/s."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def replies_load(
    token: str, connections: int, seconds: float, model: str, server_pid: int | None = None
) -> str:
    """Closed loop: each connection posts a new chat and reads its reply to the end, again and
    again. Replies still streaming when the time is up are not counted (as wrk does)."""
    payload = json.dumps({"content": "Summarize my tasks for this week", "model": model}).encode()
    raw = (
        f"POST /api/chat HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(payload)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + payload
    latencies: list[float] = []
    refused: dict[str, int] = {}
    broken = 0
    cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal broken
        while time.perf_counter() < stop:
            started = time.perf_counter()
            reader, writer = await asyncio.open_connection(HOST, APP_PORT)
            writer.write(raw)
            body = await reader.read()
            writer.close()
            finished = time.perf_counter()
            if finished > stop:
                return
            status = int(body[9:12])
            if status == 200 and b"data: [DONE]" in body:
                latencies.append(finished - started)
            elif status in (429, 503):
                code = re.search(rb'"code":"([a-z_]+)"', body)
                key = f"{status} {code[1].decode() if code else '?'}"
                refused[key] = refused.get(key, 0) + 1
                retry = re.search(rb"(?i)retry-after: *(\d+)", body)
                # As a well-behaved client would (AI SDK users see the error; scripts back off).
                await asyncio.sleep(min(float(retry[1]) if retry else 1.0, stop - finished))
            else:
                broken += 1

    await asyncio.gather(*(worker() for _ in range(connections)))
    cpu = (cpu_seconds(server_pid) - cpu_before) if server_pid else 0.0
    if not latencies:
        return f"x{connections:<3} no complete replies (refused {refused}, broken {broken})"
    return (
        f"x{connections:<3} {len(latencies) / seconds:6.1f} replies/s, "
        f"p50 {pct(latencies, 0.5):7.0f} ms, p99 {pct(latencies, 0.99):7.0f} ms, "
        f"refused {sum(refused.values())} {refused or ''}, broken {broken}"
        + (f", server CPU {cpu * 1000 / len(latencies):.1f} ms/reply" if server_pid else "")
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["replies", "streaming", "history"], action="append")
    parser.add_argument("--model", default="fake-64x5ms", help="replies: fake-<N>x<D>ms")
    parser.add_argument("--connections", default="24,64", help="replies")
    parser.add_argument("--warmup", type=float, default=3.0, help="replies: seconds unmeasured")
    parser.add_argument("--delay-ms", type=int, default=20, help="streaming")
    parser.add_argument("--words", type=int, default=30, help="streaming")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", default="1,16,128", help="streaming")
    parser.add_argument("--history-sizes", default="1000,100000,1000000")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    parser.add_argument("--profile", help="py-spy binary: record the server during replies")
    parser.add_argument("--profile-out", default="chat-profile", help="<this>-<connections>.txt")
    args = parser.parse_args()
    sections = set(args.only or ["replies", "streaming", "history"])
    stream_model = f"fake-{args.words}x{args.delay_ms}ms"
    models = [
        {"id": m, "provider": "openai", "upstream": m, "label": m, "context_window": 128000,
         "max_output_tokens": 4096}
        for m in {args.model, stream_model}
    ]  # fmt: skip

    database_url = await fresh_database()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            fake = [sys.executable, str(FAKE_MODEL), "--port", str(FAKE_PORT)]
            processes.append(start_process(fake))
            server = start_server(
                APP_PORT,
                {
                    "DATABASE_URL": database_url,
                    "DATA_DIR": data_dir,
                    "LOG_LEVEL": "WARNING",
                    "OPENAI_API_KEY": "sk-bench",
                    "OPENAI_BASE_URL": f"http://{HOST}:{FAKE_PORT}/v1",
                    "AI_MODELS": json.dumps(models),
                    # One user drives every connection: its abuse limits are lifted.
                    "RATE_LIMIT_CHAT_USER": "1000000/minute",
                    "CHAT_MAX_CONCURRENT_STREAMS": "10000",
                    **dict(item.split("=", 1) for item in args.env),
                },
            )
            processes.append(server)
            await wait_ready(f"http://{HOST}:{FAKE_PORT}/v1/models", any_answer=True)
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
            settings = " ".join(args.env) or "defaults"
            print(
                f"app on PostgreSQL, one worker ({settings}), {os.cpu_count()} cores shared by "
                "the fake model, app, database and load generator"
            )

            if "replies" in sections:
                print(f"replies: POST /api/chat, {args.model}, a new chat each, {args.seconds} s")
                for connections in (int(c) for c in args.connections.split(",")):
                    await replies_load(token, connections, args.warmup, args.model)
                    spy = None
                    if args.profile:
                        out = f"{args.profile_out}-{connections}.txt"  # collapsed stacks
                        spy = subprocess.Popen(  # noqa: ASYNC220 (started once, not awaited)
                            [args.profile, "record", "-p", str(server.pid), "-o", out,
                             "-d", str(int(args.seconds)), "--nonblocking", "--format", "raw"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        )  # fmt: skip
                    result = await replies_load(
                        token, connections, args.seconds, args.model, server.pid
                    )
                    print("  " + result)
                    if spy is not None:
                        spy.wait()

            if "streaming" in sections:
                words = " ".join(f"w{i}" for i in range(args.words - 1))

                def direct() -> object:
                    body = {
                        "model": stream_model,
                        "stream": True,
                        "messages": [{"role": "user", "content": words}],
                    }
                    auth = {"Authorization": "Bearer sk-bench"}
                    return stream_once(FAKE_PORT, "/v1/chat/completions", body, auth, b'"content"')

                def via_chat() -> Any:
                    body = {"content": words, "model": stream_model}
                    auth = {"Authorization": f"Bearer {token}"}
                    return stream_once(APP_PORT, "/api/chat", body, auth, b'"text-delta"')

                print(f"streaming: {args.words} tokens, {args.delay_ms} ms apart")
                await via_chat()  # warm up: the first call imports and builds the SDK client
                for concurrency in (int(c) for c in args.concurrency.split(",")):
                    await measure("fake model directly", concurrency, direct)
                    await measure("through POST /api/chat", concurrency, via_chat)

            if "history" in sections:
                print("history: GET /api/chat/history?limit=20, 32 connections")
                for size in (int(s) for s in args.history_sizes.split(",")):
                    await fill_history(database_url, user_id, size)
                    result = await history_load(token, 32, args.seconds)
                    print(f"  {size:>9,} messages: {result}")
    finally:
        stop_processes(processes)
        await drop_database(database_url)


if __name__ == "__main__":
    asyncio.run(main())
