"""Benchmark: live queries on `everything-app serve` (PostgreSQL with LISTEN/NOTIFY or Redis,
or the embedded SQLite default).

Prints:
- time to establish 1,000 WebSocket connections (opened 100 at a time, as the side-by-side
  harness does), and to have each subscribed with its first result;
- write-to-notification latency (p50/p99): a `POST /api/tasks` on instance A until each
  subscriber of `tasks.list {limit: 50}` (200 tasks already) has a message carrying the new
  task, with 1, 100 and 1,000 subscribers on A itself and (PostgreSQL) on a second instance B
  (the change crosses the broker); and the bytes of each such message;
- the CPU time the subscribers' server spent per write (steadier than latency on a busy
  machine; on the same instance it includes the write itself);
- optionally (`--capacity N`) server memory per connection and how many one instance holds.

`--patch` subscribes with the patch option (messages carry what changed), else whole results.
The load generator shares this machine with the servers and the database, so the figures
are a floor, not a ceiling. Latency includes the client's own time to read each message.

    .venv/bin/python bench/realtime.py [--database postgres|sqlite] [--broker postgres|redis]
        [--rounds 20] [--levels 1,100,1000] [--patch] [--no-compression] [--capacity 10000]
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
SEED_TASKS = 200
OPEN_BATCH = 100


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

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")


def _percentiles(samples: list[float]) -> str:
    if not samples:
        return "no notifications"
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


# Browsers always offer permessage-deflate; --no-compression (the side-by-side harness's
# setting) measures without it.
COMPRESSION: list[str | None] = ["deflate"]
PATCH = [False]


def _connect(server: Server, headers: dict[str, str]) -> connect:
    return connect(
        server.ws_url,
        additional_headers=headers,
        proxy=None,
        open_timeout=60,
        compression=COMPRESSION[0],
        max_size=None,
    )


def _subscribe_message() -> str:
    message: dict[str, object] = {
        "type": "subscribe",
        "id": "t",
        "query": "tasks.list",
        "args": {"limit": 50},
    }
    if PATCH[0]:
        message["patch"] = True
    return json.dumps(message)


@dataclass
class Subscriber:
    ws: ClientConnection
    latencies: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)


class Round:
    """One write (a task with a unique title), and the moment each subscriber saw it."""

    def __init__(self, expected: int, marker: str) -> None:
        self.marker = marker
        self.started = 0.0
        self.pending = expected
        self.done = asyncio.Event()

    def arrived(self, subscriber: Subscriber, size: int) -> None:
        subscriber.latencies.append(time.perf_counter() - self.started)
        subscriber.sizes.append(size)
        self.pending -= 1
        if self.pending == 0:
            self.done.set()


async def _read(subscriber: Subscriber, rounds: list[Round]) -> None:
    seen = ""
    with contextlib.suppress(Exception):
        async for raw in subscriber.ws:
            text = raw if isinstance(raw, str) else raw.decode()
            if rounds and rounds[-1].marker != seen and rounds[-1].marker in text:
                seen = rounds[-1].marker
                rounds[-1].arrived(subscriber, len(text.encode()))


async def _open(server: Server, headers: dict[str, str], count: int) -> list[ClientConnection]:
    sockets: list[ClientConnection] = []
    for start in range(0, count, OPEN_BATCH):
        size = min(OPEN_BATCH, count - start)
        sockets += await asyncio.gather(*(_connect(server, headers) for _ in range(size)))
    return sockets


async def _subscribe(sockets: list[ClientConnection]) -> None:
    message = _subscribe_message()
    for start in range(0, len(sockets), OPEN_BATCH):
        batch = sockets[start : start + OPEN_BATCH]
        await asyncio.gather(*(ws.send(message) for ws in batch))
        await asyncio.gather(*(ws.recv() for ws in batch))  # the first result


@contextlib.asynccontextmanager
async def _subscribers(server: Server, token: str, count: int) -> AsyncIterator[list[Subscriber]]:
    """`count` sockets, each subscribed to tasks.list (limit 50)."""
    sockets: list[ClientConnection] = []
    try:
        sockets = await _open(server, {"Authorization": f"Bearer {token}"}, count)
        await _subscribe(sockets)
        yield [Subscriber(ws) for ws in sockets]
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def _connect_time(server: Server, token: str, count: int) -> None:
    """The time to open `count` sockets, then to have each subscribed with its result."""
    sockets: list[ClientConnection] = []
    try:
        started = time.perf_counter()
        sockets = await _open(server, {"Authorization": f"Bearer {token}"}, count)
        opened = time.perf_counter() - started
        await _subscribe(sockets)
        subscribed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    print(
        f"{count:,} connections established in {opened:.2f} s; "
        f"subscribed with first results after {subscribed:.2f} s"
    )


async def _latency(
    writer: httpx.AsyncClient,
    subscribers: list[Subscriber],
    rounds: int,
    writes: list[float] | None = None,
) -> tuple[list[float], list[int]]:
    """Per-notification latencies and sizes; `writes` gets each POST's own round trip."""
    history: list[Round] = []
    readers = [asyncio.create_task(_read(s, history)) for s in subscribers]
    try:
        for number in range(rounds + 1):  # the first round warms up and is not counted
            current = Round(len(subscribers), f"bench-{uuid.uuid4().hex[:12]}")
            history.append(current)
            current.started = time.perf_counter()
            response = await writer.post("/api/tasks", json={"title": current.marker})
            assert response.status_code == 201, response.text
            if writes is not None and number:
                writes.append(time.perf_counter() - current.started)
            async with asyncio.timeout(60):
                await current.done.wait()
            if number == 0:
                for s in subscribers:
                    s.latencies.clear()
                    s.sizes.clear()
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    return (
        [latency for s in subscribers for latency in s.latencies],
        [size for s in subscribers for size in s.sizes],
    )


async def _sign_up(server: Server) -> str:
    async with httpx.AsyncClient(base_url=server.url, headers={"Origin": server.url}) as client:
        response = await client.post(
            "/api/auth/sign-up/email",
            json={"email": f"bench-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD},
        )
        response.raise_for_status()
        token: str = response.json()["token"]
        return token


async def _seed(writer: httpx.AsyncClient) -> None:
    for i in range(SEED_TASKS):  # one at a time: the database may be short of connections
        response = await writer.post("/api/tasks", json={"title": f"seed {i}"})
        assert response.status_code == 201, response.text


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
        idle = server.rss_kib()
        await _subscribe([s.ws for s in opened])
        rss = server.rss_kib()
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as writer:
            samples, _ = await _latency(writer, opened, rounds=3)
        count = max(1, len(opened))
        print(
            f"held {len(opened):,} connections{failure}; opened at {len(opened) / elapsed:,.0f}/s; "
            f"server RSS {before / 1024:,.0f} → {idle / 1024:,.0f} MiB idle "
            f"({(idle - before) / count:.1f} KiB each) → {rss / 1024:,.0f} MiB subscribed "
            f"({(rss - before) / count:.1f} KiB each); a write then reached all of them: "
            f"{_percentiles(samples)}"
        )
    finally:
        for start in range(0, len(opened), 1000):
            await asyncio.gather(
                *(s.ws.close() for s in opened[start : start + 1000]), return_exceptions=True
            )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--levels", default="1,100,1000")
    parser.add_argument("--capacity", type=int, default=0, help="also hold this many sockets")
    parser.add_argument("--broker", choices=("postgres", "redis"), default="postgres")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-compression", action="store_true")
    parser.add_argument("--patch", action="store_true", help="subscribe with the patch option")
    args = parser.parse_args()
    if args.no_compression:
        COMPRESSION[0] = None
    PATCH[0] = args.patch
    levels = [int(level) for level in args.levels.split(",")]

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    postgres = args.database == "postgres"
    database_url = (args.database_url or await _fresh_database()) if postgres else None
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            "DATA_DIR": data_dir,
            "SECRET_KEY": SECRET,
            "LOG_LEVEL": "WARNING",
            "BASE_URL": f"http://{HOST}:{PORTS[0]}",
            "REALTIME_MAX_CONNECTIONS": "100000",
            "RATE_LIMIT_KEY_CREATE_USER": "1000000/hour",
            "RATE_LIMIT_SIGN_UP_IP": "1000000/minute",
            "REALTIME_MAX_CONNECTIONS_PER_USER": "100000",
        }
        if database_url is not None:
            env |= {"DATABASE_URL": database_url, "REALTIME_BROKER": args.broker}
            if args.broker == "redis":
                env |= {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": f"bench{uuid.uuid4().hex[:6]}"}
        a = _start(PORTS[0], env)
        servers = [a]
        try:
            await _wait_ready(a)  # it migrated the database
            if postgres:
                b = _start(PORTS[1], {**env, "AUTO_MIGRATE": "false"})
                servers.append(b)
                await _wait_ready(b)
            broker = args.broker if postgres else "in-process"
            print(
                f"{len(servers)} `everything-app serve` instance(s) on {args.database}, broker "
                f"{broker}, compression {COMPRESSION[0]}, "
                f"{'patches' if PATCH[0] else 'whole results'}, "
                f"{os.cpu_count()} cores shared with the load generator and the database"
            )
            token = await _sign_up(a)
            headers = {"Authorization": f"Bearer {token}"}
            writes: list[float] = []
            async with httpx.AsyncClient(base_url=a.url, headers=headers) as writer:
                await _seed(writer)
                await _connect_time(a, token, 1000)
                for count in levels:
                    for name, target in zip(("same instance", "across two"), servers, strict=False):
                        async with _subscribers(target, token, count) as subscribers:
                            cpu = target.cpu_seconds()
                            samples, sizes = await _latency(
                                writer, subscribers, args.rounds, writes
                            )
                            cpu = (target.cpu_seconds() - cpu) / (args.rounds + 1)
                        print(
                            f"{count:>5} subscribers, {name:<13}: {_percentiles(samples)}   "
                            f"{statistics.mean(sizes) if sizes else 0:,.0f} B each; "
                            f"subscribers' server CPU {cpu * 1000:.1f} ms per write"
                        )
            print(f"  (the POST itself, for scale: {_percentiles(writes).split('(')[0].strip()})")
            if args.capacity:
                await _capacity(servers[-1], args.capacity)
        finally:
            for server in servers:
                server.process.send_signal(signal.SIGINT)
            for server in servers:
                try:
                    server.process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    server.process.kill()
    if database_url is not None and not args.database_url:
        await _drop_database(database_url)


if __name__ == "__main__":
    asyncio.run(main())
