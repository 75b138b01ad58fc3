"""Benchmark: live queries on `everything-app serve` (PostgreSQL; LISTEN/NOTIFY or Redis).

Prints:
- write-to-notification latency (p50/p99): a `POST /api/keys` on instance A until each
  subscriber of `keys.list` has the new result, with 1, 100 and 1,000 subscribers on A
  itself and on a second instance B (the change crosses the broker);
- server memory per idle connection (RSS growth / connections), without and with one
  subscription each;
- how many connections one instance holds: connections are opened in batches until
  `--max-connections` (or the first failure), then a write must still reach every one.

The load generator shares this machine with the servers and the database, so the figures
are a floor, not a ceiling. Latency includes the client's own time to parse each message.

    .venv/bin/python bench/realtime.py [--rounds 20] [--max-connections 10000]
        [--broker postgres|redis] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import httpx
from websockets.asyncio.client import ClientConnection, connect

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
HOST = "127.0.0.1"
PORTS = (8811, 8812)
PASSWORD = "benchmark password"  # noqa: S105 - a throwaway bench account
SECRET = "bench-secret-" + "x" * 40  # both instances must share it


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/api/realtime"

    def rss_kib(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   ({len(ordered)} notifications)"


async def _fresh_database() -> str:
    name = f"ea_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(ADMIN_URL)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def _drop_database(url: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await conn.close()


def _start(port: int, env: dict[str, str]) -> Server:
    cmd = [sys.executable, "-m", "everything_app", "serve", "--host", HOST, "--port", str(port)]
    process = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    return Server(port, process)


async def _wait_ready(server: Server) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"{server.url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"server on {server.port} did not become ready")


# Browsers always offer permessage-deflate; --no-compression measures what it costs.
COMPRESSION: list[str | None] = ["deflate"]


def _connect(server: Server, headers: dict[str, str]) -> connect:
    return connect(
        server.ws_url,
        additional_headers=headers,
        proxy=None,
        open_timeout=60,
        compression=COMPRESSION[0],
    )


@dataclass
class Subscriber:
    ws: ClientConnection
    latencies: list[float] = field(default_factory=list)


class Round:
    """One write, and the moment each subscriber saw its result."""

    def __init__(self, expected: int) -> None:
        self.started = 0.0
        self.version = 0
        self.pending = expected
        self.done = asyncio.Event()

    def arrived(self, subscriber: Subscriber, version: int) -> None:
        if version == self.version and self.started:
            subscriber.latencies.append(time.perf_counter() - self.started)
            self.pending -= 1
            if self.pending == 0:
                self.done.set()


async def _read(subscriber: Subscriber, rounds: list[Round]) -> None:
    with contextlib.suppress(Exception):
        async for raw in subscriber.ws:
            message = json.loads(raw)
            if message["type"] == "result" and rounds:
                rounds[-1].arrived(subscriber, message["version"])


@contextlib.asynccontextmanager
async def _subscribers(
    server: Server, token: str, count: int, *, subscribe: bool = True
) -> AsyncIterator[list[Subscriber]]:
    """`count` sockets, opened 200 at a time, each subscribed to keys.list (limit 1)."""
    headers = {"Authorization": f"Bearer {token}"}
    subscribers: list[Subscriber] = []
    try:
        for start in range(0, count, 200):
            batch = await asyncio.gather(
                *(_connect(server, headers) for _ in range(min(200, count - start)))
            )
            subscribers += [Subscriber(ws) for ws in batch]
            if subscribe:
                message = json.dumps(
                    {"type": "subscribe", "id": "k", "query": "keys.list", "args": {"limit": 1}}
                )
                await asyncio.gather(*(ws.send(message) for ws in batch))
                await asyncio.gather(*(ws.recv() for ws in batch))  # the first result
        yield subscribers
    finally:
        await asyncio.gather(*(s.ws.close() for s in subscribers), return_exceptions=True)


async def _latency(
    writer: httpx.AsyncClient,
    subscribers: list[Subscriber],
    rounds: int,
    writes: list[float] | None = None,
) -> list[float]:
    """Per-notification latencies; `writes` gets each POST's own round trip."""
    history: list[Round] = []
    readers = [asyncio.create_task(_read(s, history)) for s in subscribers]
    try:
        for number in range(rounds):
            current = Round(len(subscribers))
            current.version = number + 2  # version 1 was the first result
            history.append(current)
            current.started = time.perf_counter()
            response = await writer.post("/api/keys", json={"name": f"bench {number}"})
            assert response.status_code == 201, response.text
            if writes is not None:
                writes.append(time.perf_counter() - current.started)
            async with asyncio.timeout(60):
                await current.done.wait()
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    return [latency for s in subscribers for latency in s.latencies]


async def _sign_up(server: Server) -> str:
    async with httpx.AsyncClient(base_url=server.url, headers={"Origin": server.url}) as client:
        response = await client.post(
            "/api/auth/sign-up/email",
            json={"email": f"bench-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD},
        )
        response.raise_for_status()
        token: str = response.json()["token"]
        return token


async def _capacity(server: Server, target: int) -> None:
    """Open sockets in batches until `target` or the first failure; then one write must still
    reach every socket."""
    token = await _sign_up(server)
    before = server.rss_kib()
    opened: list[Subscriber] = []
    started = time.perf_counter()
    failure = ""
    headers = {"Authorization": f"Bearer {token}"}
    try:
        while len(opened) < target:
            size = min(500, target - len(opened))
            results = await asyncio.gather(
                *(_connect(server, headers) for _ in range(size)),
                return_exceptions=True,
            )
            batch = [r for r in results if isinstance(r, ClientConnection)]
            opened += [Subscriber(ws) for ws in batch]
            errors = [r for r in results if not isinstance(r, ClientConnection)]
            if errors:
                failure = f" (stopped: {type(errors[0]).__name__}: {errors[0]})"
                break
        elapsed = time.perf_counter() - started
        message = json.dumps(
            {"type": "subscribe", "id": "k", "query": "keys.list", "args": {"limit": 1}}
        )
        for start in range(0, len(opened), 1000):
            chunk = opened[start : start + 1000]
            await asyncio.gather(*(s.ws.send(message) for s in chunk))
            await asyncio.gather(*(s.ws.recv() for s in chunk))
        rss = server.rss_kib()
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as writer:
            samples = await _latency(writer, opened, rounds=3)
        print(
            f"held {len(opened):,} connections{failure}; opened at "
            f"{len(opened) / elapsed:,.0f}/s; server RSS {before / 1024:,.0f} → "
            f"{rss / 1024:,.0f} MiB; a write then reached all of them: {_percentiles(samples)}"
        )
    finally:
        for start in range(0, len(opened), 1000):
            await asyncio.gather(
                *(s.ws.close() for s in opened[start : start + 1000]), return_exceptions=True
            )


async def _memory(server: Server, token: str, count: int) -> None:
    before = server.rss_kib()
    async with _subscribers(server, token, count, subscribe=False) as subscribers:
        await asyncio.sleep(1)  # let allocations settle before reading RSS
        idle = server.rss_kib()
        message = json.dumps({"type": "subscribe", "id": "k", "query": "keys.list"})
        await asyncio.gather(*(s.ws.send(message) for s in subscribers))
        await asyncio.gather(*(s.ws.recv() for s in subscribers))
        await asyncio.sleep(1)
        subscribed = server.rss_kib()
    print(
        f"memory per idle connection: {(idle - before) / count:.1f} KiB "
        f"({count:,} sockets, compression {COMPRESSION[0]}); with one subscription each "
        f"(one shared query): {(subscribed - before) / count:.1f} KiB"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--max-connections", type=int, default=10_000)
    parser.add_argument("--broker", choices=("postgres", "redis"), default="postgres")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-compression", action="store_true")
    args = parser.parse_args()
    if args.no_compression:
        COMPRESSION[0] = None

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    database_url = args.database_url or await _fresh_database()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            "DATABASE_URL": database_url,
            "DATA_DIR": data_dir,
            "SECRET_KEY": SECRET,
            "LOG_LEVEL": "WARNING",
            "BASE_URL": f"http://{HOST}:{PORTS[0]}",
            "REALTIME_BROKER": args.broker,
            "REALTIME_MAX_CONNECTIONS": "100000",
            "RATE_LIMIT_KEY_CREATE_USER": "1000000/hour",
            "RATE_LIMIT_SIGN_UP_IP": "1000000/minute",
            "REALTIME_MAX_CONNECTIONS_PER_USER": "100000",
        }
        if args.broker == "redis":
            env |= {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": f"bench{uuid.uuid4().hex[:6]}"}
        a = _start(PORTS[0], env)
        servers = [a]
        try:
            await _wait_ready(a)  # it migrated the database
            b = _start(PORTS[1], {**env, "AUTO_MIGRATE": "false"})
            servers.append(b)
            await _wait_ready(b)
            print(
                f"two `everything-app serve` instances on PostgreSQL, broker {args.broker}, "
                f"compression {COMPRESSION[0]}, "
                f"{os.cpu_count()} cores shared with the load generator and the database"
            )
            token = await _sign_up(a)
            headers = {"Authorization": f"Bearer {token}"}
            writes: list[float] = []
            async with httpx.AsyncClient(base_url=a.url, headers=headers) as writer:
                for count in (1, 100, 1000):
                    for name, target in (("same instance", a), ("across two", b)):
                        async with _subscribers(target, token, count) as subscribers:
                            samples = await _latency(writer, subscribers, args.rounds, writes)
                        print(f"{count:>5} subscribers, {name:<13}: {_percentiles(samples)}")
            print(f"  (the POST itself, for scale: {_percentiles(writes).split('(')[0].strip()})")
            await _memory(b, await _sign_up(b), 2000)
            await _capacity(b, args.max_connections)
        finally:
            for server in servers:
                server.process.send_signal(signal.SIGINT)
            for server in servers:
                try:
                    server.process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    server.process.kill()
    if not args.database_url:
        await _drop_database(database_url)


if __name__ == "__main__":
    asyncio.run(main())
