"""Benchmark: better-auth's `GET /api/auth/admin/list-users` as the user table grows.

Prints p50/p99 latency (one connection, sequential requests) of the admin list's typical
queries — the first page, a deep page (`offset` near the end: better-auth's paging is by
offset, so its cost grows with the offset), a sort by name, a case-insensitive search, and a
filter on role — with 1 thousand and with `--rows` users in the table, and how long a ban
takes (sessions ended, change events published).

The server runs as `everything-app serve` on a fresh PostgreSQL database; users are seeded
with SQL as the owner. Client and server share the machine, so the figures are a floor.

    .venv/bin/python bench/admin.py [--requests 200] [--rows 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import tempfile
import time
import uuid

import asyncpg
import httpx
from support import drop_database, fresh_database, pct, start_server, wait_ready

HOST, PORT = "127.0.0.1", 8797
PASSWORD = "benchmark password"  # noqa: S105 - a throwaway bench account


async def _seed(db: asyncpg.Connection, rows: int) -> None:
    """Exactly `rows` seeded users besides the admin (created over the past rows seconds)."""
    await db.execute("DELETE FROM users WHERE email LIKE 'seed-%'")
    await db.execute(
        """
        INSERT INTO users (id, email, name, password_hash, role, email_verified, banned,
                           created_at, updated_at)
        SELECT gen_random_uuid(), 'seed-' || i || '@example.com', 'name ' || md5(i::text),
               'x', 'user', false, false, now() - i * interval '1 second',
               now() - i * interval '1 second'
        FROM generate_series(1, $1) AS i
        """,
        rows,
    )
    await db.execute("ANALYZE users")


async def _time(client: httpx.AsyncClient, label: str, params: dict[str, str], n: int) -> None:
    latencies: list[float] = []
    for _ in range(n):
        started = time.perf_counter()
        response = await client.get("/api/auth/admin/list-users", params=params)
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
    print(
        f"    {label}: p50 {pct(latencies, 0.5):.2f} ms, p99 {pct(latencies, 0.99):.2f} ms",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    database_url = await fresh_database()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            "DATABASE_URL": database_url,
            "DATA_DIR": data_dir,
            "LOG_LEVEL": "WARNING",
            "BASE_URL": f"http://{HOST}:{PORT}",
        }
        server = start_server(PORT, env, host=HOST)
        db = await asyncpg.connect(database_url)  # the owner: seeds rows
        try:
            await wait_ready(f"http://{HOST}:{PORT}/readyz")
            async with httpx.AsyncClient(base_url=f"http://{HOST}:{PORT}", timeout=60) as client:
                signed = await client.post(
                    "/api/auth/sign-up/email",
                    json={"email": "admin@example.com", "password": PASSWORD, "name": "A"},
                )
                signed.raise_for_status()
                admin_id = uuid.UUID(signed.json()["user"]["id"])
                # Promoted before its token is first used, so no cached credential predates it.
                await db.execute("UPDATE users SET role = 'admin' WHERE id = $1", admin_id)
                client.headers["Authorization"] = f"Bearer {signed.json()['token']}"
                print(f"GET /api/auth/admin/list-users, {args.requests} requests each, 1 conn")
                for rows in (1_000, args.rows):
                    started = time.perf_counter()
                    await _seed(db, rows)
                    print(f"  {rows:,} users (seeded in {time.perf_counter() - started:.1f} s)")
                    queries = {
                        "first page (50)": {"limit": "50"},
                        "deep page (offset end-50)": {"limit": "50", "offset": str(rows - 50)},
                        "sortBy=name": {"limit": "50", "sortBy": "name"},
                        "search email contains": {"searchValue": "seed-12", "limit": "50"},
                        "filter role=admin": {"filterField": "role", "filterValue": "admin"},
                    }
                    for label, params in queries.items():
                        await _time(client, label, params, args.requests)
                target = await db.fetchval(
                    "SELECT id FROM users WHERE email = 'seed-1@example.com'"
                )
                latencies: list[float] = []
                for _ in range(min(args.requests, 50)):
                    started = time.perf_counter()
                    banned = await client.post(
                        "/api/auth/admin/ban-user", json={"userId": str(target)}
                    )
                    latencies.append(time.perf_counter() - started)
                    banned.raise_for_status()
                    await client.post("/api/auth/admin/unban-user", json={"userId": str(target)})
                print(
                    f"  POST ban-user: p50 {pct(latencies, 0.5):.2f} ms, "
                    f"p99 {pct(latencies, 0.99):.2f} ms"
                )
        finally:
            await db.close()
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    await drop_database(database_url)


if __name__ == "__main__":
    asyncio.run(main())
