"""Benchmark: the planner's task routes and dashboard on PostgreSQL, with and without RLS.

Prints requests/s and p50/p99 latency at 64 concurrent keep-alive connections of
`GET /api/tasks` (a 50-row page) and `POST /api/tasks`, first with row-level security as the
app runs it, then with RLS disabled on the owned tables (the cost of the policies; the app
still sets its per-transaction user, so that round trip is in both), and the list's SQL alone
on one connection with RLS on and off (the policy's cost inside PostgreSQL, free of the noise
of a shared machine); the list's latency with
1 thousand and with 1 million rows in the table (all the user's own: the worst case for the
keyset page); and `GET /api/dashboard` latency over a year of one user's data.

The server runs as `everything-app serve` on a fresh database, logging in as the superuser
`postgres`, so it switches to the runtime role on connect, exactly as a privileged
DATABASE_URL does in production. Rows are seeded with SQL as the owner. The load generator
is a minimal HTTP/1.1 keep-alive client on asyncio streams sharing the machine with the
server, so the figures are a floor, not a ceiling.

    .venv/bin/python bench/planner.py --seconds 10 [--workers 1] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping

import asyncpg
import httpx
from support import Stats, drop_database, fresh_database, request, start_server, wait_ready

HOST, PORT = "127.0.0.1", 8798
PASSWORD = "benchmark password"  # noqa: S105 - a throwaway bench account
OWNED_TABLES = (
    "sessions",
    "api_keys",
    "chat_sessions",
    "messages",
    "calendar_events",
    "tasks",
    "expenses",
)


def _get(path: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()


def _post(path: str, token: str, body: Mapping[str, object]) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    return head + data


async def _worker(
    make_request: Callable[[], bytes], stop_at: float, stats: Stats, expect: int
) -> None:
    reader, writer = await asyncio.open_connection(HOST, PORT)
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            status, _ = await request(reader, writer, make_request())
            if status == expect:
                stats.latencies.append(time.perf_counter() - started)
            else:
                stats.errors += 1
    finally:
        writer.close()


async def _run(
    name: str,
    make_request: Callable[[], bytes],
    connections: int,
    seconds: float,
    expect: int = 200,
) -> Stats:
    stats = Stats()
    stop_at = time.perf_counter() + seconds
    await asyncio.gather(
        *(_worker(make_request, stop_at, stats, expect) for _ in range(connections))
    )
    print(stats.report(name, seconds), flush=True)
    return stats


def _start_server(database_url: str, workers: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = {
        "DATABASE_URL": database_url,
        "DATA_DIR": data_dir,
        "LOG_LEVEL": "WARNING",
        "BASE_URL": f"http://{HOST}:{PORT}",
        "RATE_LIMIT_SIGN_UP_IP": "1000000/minute",
    }
    return start_server(PORT, env, host=HOST, workers=workers)


async def _sign_up() -> tuple[str, uuid.UUID]:
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{PORT}") as client:
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        signed = await client.post(
            "/api/auth/sign-up/email", json={"email": email, "password": PASSWORD, "name": "B"}
        )
        body = signed.json()
        return body["token"], uuid.UUID(body["user"]["id"])


async def _set_tasks(db: asyncpg.Connection, user: uuid.UUID, count: int) -> None:
    """Give `user` exactly `count` tasks (created over the past year, some done, some due)."""
    await db.execute("DELETE FROM tasks WHERE user_id = $1", user)
    await db.execute(
        """
        INSERT INTO tasks (id, user_id, title, is_complete, due_date, created_at, updated_at)
        SELECT gen_random_uuid(), $1, 'task ' || i, i % 3 = 0,
               CASE WHEN i % 2 = 0 THEN now() + (i % 60 - 30) * interval '1 day' END,
               now() - i * (interval '1 year' / $2), now()
        FROM generate_series(1, $2) AS i
        """,
        user,
        count,
    )
    await db.execute("ANALYZE tasks")


async def _seed_year(db: asyncpg.Connection, user: uuid.UUID) -> None:
    """A year of one user's planner: 3 events, 2 expenses and 1 task a day."""
    await db.execute(
        """
        INSERT INTO calendar_events (id, user_id, title, start_time, end_time, created_at,
                                     updated_at)
        SELECT gen_random_uuid(), $1, 'event ' || d || '/' || k,
               s, s + interval '1 hour', now(), now()
        FROM generate_series(0, 364) AS d, generate_series(0, 2) AS k,
             LATERAL (SELECT date_trunc('day', now()) - (d - 7) * interval '1 day'
                             + (9 + 3 * k) * interval '1 hour' AS s) AS t
        """,
        user,
    )
    await db.execute(
        """
        INSERT INTO expenses (id, user_id, amount, category, incurred_at, created_at, updated_at)
        SELECT gen_random_uuid(), $1, round((random() * 80 + 1)::numeric, 2),
               (ARRAY['food', 'transport', 'rent', 'fun'])[1 + (d + k) % 4],
               now() - d * interval '1 day' - k * interval '5 hours', now(), now()
        FROM generate_series(0, 364) AS d, generate_series(0, 1) AS k
        """,
        user,
    )
    await _set_tasks(db, user, 365)
    await db.execute("ANALYZE")


async def _set_rls(db: asyncpg.Connection, enabled: bool) -> None:
    action = "ENABLE" if enabled else "DISABLE"
    for table in OWNED_TABLES:
        await db.execute(f"ALTER TABLE {table} {action} ROW LEVEL SECURITY")


LIST_SQL = """
    SELECT id, title, is_complete, due_date, created_at, updated_at FROM tasks
    WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 51
"""


async def _policy_cost(database_url: str, owner: asyncpg.Connection, user: uuid.UUID) -> None:
    """The list's SQL alone, on one connection as the runtime role: the policy's own cost and
    that of setting the user, without HTTP, Python or the load generator in the way. Rounds
    alternate; the best of each is printed, the least disturbed by the rest of the machine."""
    conn = await asyncpg.connect(database_url)
    await conn.execute("SET ROLE everything_app")
    runs, best = 1_000, dict[str, float]()
    modes = {
        "RLS on, user set": (True, True),
        "RLS off, user set": (False, True),
        "RLS off, no set_config": (False, False),
    }
    try:
        for _ in range(4):
            for label, (enabled, set_user) in modes.items():
                await _set_rls(owner, enabled)
                started = time.perf_counter()
                for _ in range(runs):
                    async with conn.transaction():
                        if set_user:
                            await conn.execute(
                                "SELECT set_config('app.user_id', $1, true)", str(user)
                            )
                        await conn.fetch(LIST_SQL, user)
                elapsed = (time.perf_counter() - started) / runs * 1e6
                best[label] = min(best.get(label, elapsed), elapsed)
        for label, micros in best.items():
            print(f"  {label}: {micros:.0f} µs per transaction", flush=True)
    finally:
        await conn.close()
        await _set_rls(owner, True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    n, seconds = args.connections, args.seconds

    database_url = await fresh_database()
    with tempfile.TemporaryDirectory() as data_dir:
        server = _start_server(database_url, args.workers, data_dir)
        db = await asyncpg.connect(database_url)  # the owner: seeds rows, toggles RLS
        try:
            await wait_ready(f"http://{HOST}:{PORT}/readyz")
            token, user = await _sign_up()
            dash_token, dash_user = await _sign_up()
            print(
                f"everything-app serve --workers {args.workers} on PostgreSQL, {n} connections, "
                f"{seconds:.0f} s per run, {os.cpu_count()} cores shared with the load generator",
                flush=True,
            )
            await _set_tasks(db, user, 1_000)
            list_req = _get("/api/tasks?limit=50", token)
            create_body = {"title": "bench task", "due_date": "2030-01-01T12:00:00Z"}
            create_req = _post("/api/tasks", token, create_body)

            # On and off twice, interleaved, so that a change in the machine's load shows up
            # as a difference between the two rounds rather than between on and off.
            for enabled in (True, False, True, False):
                await _set_rls(db, enabled)
                label = "RLS on " if enabled else "RLS off"
                await _run(f"GET /api/tasks (50 of 1k rows), {label}", lambda: list_req, n, seconds)
                await _run(f"POST /api/tasks, {label}", lambda: create_req, n, seconds, 201)
                await _set_tasks(db, user, 1_000)  # undo the POSTs
            await _set_rls(db, True)
            print("the list's SQL alone (BEGIN, set user, 51-row SELECT, COMMIT), 1 conn:")
            await _policy_cost(database_url, db, user)

            print("list latency by table size (RLS on):", flush=True)
            for rows in (1_000, args.rows):
                started = time.perf_counter()
                await _set_tasks(db, user, rows)
                print(f"  seeded {rows:,} tasks in {time.perf_counter() - started:.1f} s")
                await _run(f"  GET /api/tasks, {rows:,} rows, 1 conn", lambda: list_req, 1, seconds)
                await _run(
                    f"  GET /api/tasks, {rows:,} rows, {n} conns", lambda: list_req, n, seconds
                )

            await _seed_year(db, dash_user)
            dash_req = _get("/api/dashboard?tz=Europe/Paris", dash_token)
            print("dashboard over a year of data (1,095 events, 730 expenses, 365 tasks):")
            await _run("  GET /api/dashboard, 1 conn", lambda: dash_req, 1, seconds)
            await _run(f"  GET /api/dashboard, {n} conns", lambda: dash_req, n, seconds)
        finally:
            await db.close()
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    await drop_database(database_url)


if __name__ == "__main__":
    asyncio.run(main())
