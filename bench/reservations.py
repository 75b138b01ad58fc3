"""Benchmark: bookings, queue advances and availability against `everything-app serve` on
PostgreSQL.

Prints, at N concurrent keep-alive connections (64 by default), each run lasting --seconds:
- bookings/s and p50/p99 when every client books the same slot (each booking is followed by
  its cancellation, so the slot never fills: all requests meet at the one service lock);
- bookings/s and p50/p99 when clients book random slots of many services;
- queue advance latency, alone and while 32 connections add walk-ins to the same queue;
- availability p50/p99 for a busy service (hundreds of thousands of reservations, thousands on
  the day asked), next to a trivial read of the same service: the difference is what a Redis
  cache of availability could save at most.

Users and the busy service's reservations are written straight into the database (no
password hashing, COPY for bulk rows); everything measured goes through HTTP. The load
generator shares the machine with the server, so the figures are a floor, not a ceiling.

    .venv/bin/python bench/reservations.py --seconds 10 [--connections 64] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
from support import drop_database, fresh_database, start_server, wait_ready

from everything_app.core.security import new_token, token_hash

HOST, PORT = "127.0.0.1", 8797
SLOT_HOURS = range(9, 17)  # the default opening hours, 60-minute slots


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def add(self, started: float, outcome: str) -> None:
        self.latencies.append(time.perf_counter() - started)
        self.outcomes[outcome] += 1

    def report(self, name: str, seconds: float) -> str:
        if not self.latencies:
            return f"{name}: no requests"
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        outcomes = ", ".join(f"{n} {k}" for k, n in self.outcomes.most_common())
        return (
            f"{name}: {len(ordered) / seconds:,.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms "
            f"({outcomes})"
        )


class Connection:
    """One HTTP/1.1 keep-alive connection speaking just enough of the protocol."""

    def __init__(self, token: str) -> None:
        self.auth = f"Authorization: Bearer {token}\r\n"
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(HOST, PORT)
        return self

    def close(self) -> None:
        self.writer.close()

    async def call(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n{self.auth}"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        self.writer.write(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
        response_head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in response_head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return int(response_head[9:12]), await self.reader.readexactly(length)


def outcome(status: int, body: bytes) -> str:
    if status < 300:
        return str(status)
    try:
        return str(json.loads(body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return str(status)


Loop = Callable[[Connection, Stats, float], Awaitable[None]]


async def run(tokens: list[str], loop: Loop, seconds: float) -> Stats:
    stats = Stats()
    stop_at = time.perf_counter() + seconds
    connections = [await Connection(t).open() for t in tokens]
    try:
        await asyncio.gather(*(loop(c, stats, stop_at) for c in connections))
    finally:
        for connection in connections:
            connection.close()
    return stats


# --- set-up -----------------------------------------------------------------------------


def weekdays_from(first: date, count: int) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def slot(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


async def make_users(
    db: asyncpg.Connection, count: int, role: str = "user"
) -> list[tuple[uuid.UUID, str]]:
    """Users with a session each, written directly: (user id, bearer token)."""
    now = datetime.now(UTC)
    users = [(uuid.uuid4(), new_token()) for _ in range(count)]
    await db.copy_records_to_table(
        "users",
        columns=["id", "email", "name", "password_hash", "role", "email_verified", "created_at",
                 "updated_at"],
        records=[(u, f"bench-{u.hex}@example.com", "Bench", "!", role, False, now, now)
                 for u, _ in users],
    )  # fmt: skip
    await db.copy_records_to_table(
        "sessions",
        columns=["id", "user_id", "token_hash", "expires_at", "created_at", "updated_at"],
        records=[(uuid.uuid4(), u, token_hash(t), now + timedelta(days=1), now, now)
                 for u, t in users],
    )  # fmt: skip
    return users


async def create_service(admin: httpx.AsyncClient, name: str, capacity: int) -> str:
    response = await admin.post(
        "/api/services", json={"name": name, "duration_minutes": 60, "capacity": capacity}
    )
    response.raise_for_status()
    service_id: str = response.json()["id"]
    return service_id


async def fill_busy_day(
    db: asyncpg.Connection, service_id: str, users: list[uuid.UUID], days: list[date]
) -> int:
    """Every user holds every slot of every day: COPY, since HTTP would take minutes."""
    now = datetime.now(UTC)
    records = [
        (uuid.uuid4(), user, uuid.UUID(service_id), slot(day, hour), "confirmed", now, now)
        for day in days
        for hour in SLOT_HOURS
        for user in users
    ]
    await db.copy_records_to_table(
        "reservations",
        columns=["id", "user_id", "service_id", "time_slot", "status", "created_at", "updated_at"],
        records=records,
    )
    # As autovacuum would: statistics, and a visibility map for index-only scans.
    await db.execute("VACUUM ANALYZE reservations")
    return len(records)


async def time_availability_sql(db: asyncpg.Connection, service_id: str, day: date) -> str:
    """The availability query alone (what a cache could save at most, on the database side)."""
    statement = await db.prepare(
        "SELECT time_slot, count(*) FROM reservations WHERE service_id = $1 "
        "AND status <> 'canceled' AND time_slot >= $2 AND time_slot < $3 GROUP BY time_slot"
    )
    start = slot(day, 0)
    args = (uuid.UUID(service_id), start, start + timedelta(days=1))
    samples = []
    for _ in range(300):
        started = time.perf_counter()
        await statement.fetch(*args)
        samples.append(time.perf_counter() - started)
    plan = await db.fetchval(
        "EXPLAIN (FORMAT JSON) SELECT time_slot, count(*) FROM reservations "
        "WHERE service_id = $1 AND status <> 'canceled' AND time_slot >= $2 "
        "AND time_slot < $3 GROUP BY time_slot",
        *args,
    )
    node = json.loads(plan)[0]["Plan"]
    while "Plans" in node and node["Node Type"] != "Index Only Scan":
        node = node["Plans"][0]
    return f"p50 {statistics.median(samples) * 1000:.2f} ms ({node['Node Type']})"


# --- the runs ---------------------------------------------------------------------------


def contended_loop(service_id: str, at: datetime) -> Loop:
    body = {"service_id": service_id, "time_slot": iso(at)}

    async def loop(conn: Connection, stats: Stats, stop_at: float) -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            status, data = await conn.call("POST", "/api/reservations", body)
            stats.add(started, outcome(status, data))
            if status == 201:  # give the place back, so the slot never fills
                rid = json.loads(data)["id"]
                await conn.call("PATCH", f"/api/reservations/{rid}", {"status": "canceled"})

    return loop


def spread_loop(service_ids: list[str], days: list[date]) -> Loop:
    async def loop(conn: Connection, stats: Stats, stop_at: float) -> None:
        rng = random.Random()
        while time.perf_counter() < stop_at:
            at = slot(rng.choice(days), rng.choice(SLOT_HOURS))
            body = {"service_id": rng.choice(service_ids), "time_slot": iso(at)}
            started = time.perf_counter()
            status, data = await conn.call("POST", "/api/reservations", body)
            stats.add(started, outcome(status, data))

    return loop


def call_loop(method: str, path: str, body: object = None) -> Loop:
    async def loop(conn: Connection, stats: Stats, stop_at: float) -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            status, data = await conn.call(method, path, body)
            stats.add(started, outcome(status, data))

    return loop


async def stock_queue(db: asyncpg.Connection, service_id: str, count: int) -> None:
    """Walk-ins at positions 1..count, so that every advance has someone to call."""
    now = datetime.now(UTC)
    await db.copy_records_to_table(
        "queue_entries",
        columns=["id", "service_id", "label", "position", "status", "created_at", "updated_at"],
        records=[(uuid.uuid4(), uuid.UUID(service_id), f"walk-in {i}", i, "waiting", now, now)
                 for i in range(1, count + 1)],
    )  # fmt: skip


async def advance_run(admin_token: str, service_id: str, seconds: float, joiners: int) -> Stats:
    """Advance latency on one connection; `joiners` connections add walk-ins meanwhile."""
    queue = f"/api/queues/{service_id}"
    advances = run([admin_token], call_loop("POST", f"{queue}/advance"), seconds)
    if not joiners:
        return await advances
    joins = run([admin_token] * joiners, call_loop("POST", f"{queue}/join", {}), seconds)
    stats, _ = await asyncio.gather(advances, joins)
    return stats


# --- server -----------------------------------------------------------------------------


def serve(database_url: str, workers: int, data_dir: str, pool: int) -> subprocess.Popen[bytes]:
    env = {
        "DATABASE_URL": database_url,
        "DATA_DIR": data_dir,
        "LOG_LEVEL": "WARNING",
        "BASE_URL": f"http://{HOST}:{PORT}",
        # Throughput is measured, so the per-user booking limit and horizon are lifted.
        "MAX_FUTURE_RESERVATIONS": "10000",
        "RESERVATION_HORIZON_DAYS": "3650",
        "DB_POOL_SIZE": str(pool),
        "DB_MAX_OVERFLOW": "0",
    }
    return start_server(PORT, env, host=HOST, workers=workers)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pool", type=int, default=30, help="DB_POOL_SIZE per worker")
    parser.add_argument("--busy-users", type=int, default=1000)
    parser.add_argument("--busy-days", type=int, default=25)
    args = parser.parse_args()
    n, seconds = args.connections, args.seconds

    database_url = await fresh_database()
    with tempfile.TemporaryDirectory() as data_dir:
        server = serve(database_url, args.workers, data_dir, args.pool)
        try:
            await wait_ready(f"http://{HOST}:{PORT}/readyz")
            db = await asyncpg.connect(database_url)
            [(_, admin_token)] = await make_users(db, 1, role="admin")
            tokens = [t for _, t in await make_users(db, n)]
            busy_users = [u for u, _ in await make_users(db, args.busy_users)]
            days = weekdays_from(datetime.now(UTC).date() + timedelta(days=7), 60)
            auth = {"Authorization": f"Bearer {admin_token}"}
            async with httpx.AsyncClient(base_url=f"http://{HOST}:{PORT}", headers=auth) as admin:
                hot = await create_service(admin, "hot", capacity=n)
                spread = [await create_service(admin, f"s{i}", capacity=10) for i in range(50)]
                queue = await create_service(admin, "queue", capacity=1)
                busy = await create_service(admin, "busy", capacity=args.busy_users + 10)
            rows = await fill_busy_day(db, busy, busy_users, days[: args.busy_days])
            await stock_queue(db, queue, 5_000)
            sql_time = await time_availability_sql(db, busy, days[0])
            await db.close()

            print(f"everything-app serve --workers {args.workers} on PostgreSQL, {n} connections, "
                  f"{seconds:.0f} s per run, {os.cpu_count()} cores shared with the load "
                  "generator")  # fmt: skip
            stats = await run(tokens, contended_loop(hot, slot(days[0], 10)), seconds)
            print(stats.report("book, all clients on one slot (each then cancels)", seconds))
            stats = await run(tokens, spread_loop(spread, days), seconds)
            print(stats.report("book, random slots of 50 services over 60 days", seconds))
            stats = await advance_run(admin_token, queue, seconds, joiners=0)
            print(stats.report("queue advance, alone", seconds))
            stats = await advance_run(admin_token, queue, seconds, joiners=32)
            print(stats.report("queue advance, while 32 connections join", seconds))

            per_day = len(SLOT_HOURS) * args.busy_users
            print(f"busy service: {rows:,} reservations, {per_day:,} on the day asked; "
                  f"its availability SQL alone: {sql_time}")  # fmt: skip
            day = days[0].isoformat()
            for name, path in (
                ("availability of the busy day", f"/api/services/{busy}/availability?date={day}"),
                ("GET the same service (baseline)", f"/api/services/{busy}"),
            ):
                stats = await run(tokens, call_loop("GET", path), seconds)
                print(stats.report(name, seconds))
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    await drop_database(database_url)


if __name__ == "__main__":
    asyncio.run(main())
