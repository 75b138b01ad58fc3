"""Benchmark: does a scheduled backup stall the server? The `backup.run` job in process, on a
database of some size, while the event loop serves requests.

Prints the backup's duration and size, and the event loop's lag (how late a 5 ms timer
fires) and `GET /readyz` latency, p50/p99/max, idle and while the backup runs. SQLite's copy
and pg_dump run off the event loop (a thread, a subprocess): the lag during a backup should
stay near the idle one.

    .venv/bin/python bench/backup.py [--database sqlite|postgresql] [--megabytes 50]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
from support import drop_database, fresh_database

from everything_app.app import create_app
from everything_app.core import migrations
from everything_app.core.db import UnitOfWork, create_engine, unit_of_work
from everything_app.core.jobs import JobKinds
from everything_app.settings import Settings


class Context:
    """The app's own job, run here without the queue (as a worker would run it)."""

    def __init__(self, app: Any) -> None:
        self.app, self.job_id, self.user_id, self.attempt = app, uuid.uuid4(), None, 1

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.state.settings
        return settings

    def service(self, kind: type[Any]) -> Any:
        raise LookupError(kind)

    def unit_of_work(self, *, write: bool = False) -> UnitOfWork:
        state = self.app.state
        return unit_of_work(state.sessionmaker, write=write, admin=True, bus=state.changes)

    async def progress(self, percent: int, message: str = "") -> None:
        return None


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def fill(settings: Settings, megabytes: int) -> None:
    """Users and chat messages of 1 KiB each, written as the owner."""
    engine = create_engine(settings, owner=True)
    text = "x" * 1024
    try:
        async with engine.begin() as conn:
            from sqlalchemy import insert

            from everything_app.models import ChatSession, Message, User

            user = uuid.uuid4()
            await conn.execute(
                insert(User).values(
                    id=user,
                    email=f"{user}@b.example",
                    name="b",
                    password_hash="-",  # noqa: S106
                )
            )
            chat = uuid.uuid4()
            await conn.execute(insert(ChatSession).values(id=chat, user_id=user, model="offline"))
            rows = [
                {"id": uuid.uuid4(), "session_id": chat, "user_id": user, "role": "user",
                 "content": text}
                for _ in range(1000)
            ]  # fmt: skip
            for _ in range(megabytes):
                for row in rows:
                    row["id"] = uuid.uuid4()
                await conn.execute(insert(Message), rows)
    finally:
        await engine.dispose()


async def measure(
    client: httpx.AsyncClient, until: Callable[[], bool]
) -> tuple[list[float], list[float]]:
    lags: list[float] = []
    latencies: list[float] = []

    async def timer() -> None:
        while not until():
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append(max(0.0, time.perf_counter() - start - 0.005))

    async def requests() -> None:
        while not until():
            start = time.perf_counter()
            response = await client.get("/readyz")
            response.raise_for_status()
            latencies.append(time.perf_counter() - start)

    await asyncio.gather(timer(), requests())
    return lags, latencies


async def run(database: str, megabytes: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        url = await fresh_database() if database == "postgresql" else f"sqlite:///{tmp / 'b.db'}"
        try:
            settings = Settings(
                database_url=url, data_dir=tmp, log_level="WARNING", backup_dir=tmp / "backups",
                backup_schedule="", housekeeping_schedule="",
            )  # fmt: skip
            await asyncio.to_thread(migrations.upgrade, settings)
            await fill(settings, megabytes)
            async with AsyncExitStack() as stack:
                app = create_app(settings)
                await stack.enter_async_context(app.router.lifespan_context(app))
                transport = httpx.ASGITransport(app=app)
                client = await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://bench")
                )
                idle_until = time.monotonic() + 3
                idle = await measure(client, lambda: time.monotonic() > idle_until)
                kind = app.state.registry[JobKinds].get("backup.run")
                done = asyncio.Event()

                async def backup() -> dict[str, Any]:
                    try:
                        result: dict[str, Any] = await kind.run(Context(app), kind.args())
                        return result
                    finally:
                        done.set()

                started = time.perf_counter()
                results: tuple[dict[str, Any], Any] = await asyncio.gather(
                    backup(), measure(client, done.is_set)
                )
                took = time.perf_counter() - started
                result, during = results
        finally:
            if database == "postgresql":
                await drop_database(url)
    size = result["size_bytes"] / 1e6
    print(f"{database}: ~{megabytes} MB of rows, backup {took:.2f} s, {size:.1f} MB")
    for name, (lags, latencies) in (("idle", idle), ("during backup", during)):
        print(
            f"  {name:14} loop lag p50 {pct(lags, 0.5):6.2f} ms  p99 {pct(lags, 0.99):6.2f} ms"
            f"  max {max(lags, default=0) * 1000:7.2f} ms"
            f" | /readyz p50 {pct(latencies, 0.5):6.2f} ms"
            f"  p99 {pct(latencies, 0.99):6.2f} ms  ({len(latencies)} requests)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    for database in ("sqlite", "postgresql") if args.database == "both" else (args.database,):
        asyncio.run(run(database, args.megabytes))


if __name__ == "__main__":
    main()
