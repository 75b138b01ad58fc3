"""Benchmark: the `planner.import` handler inline, on SQLite and PostgreSQL.

Prints, for CSV files of 1,000 and 10,000 event rows (one in ten refused), how long reading
the file takes and how long the whole job takes (reading, checking each row with the create
schema, and the one write transaction, rows through the owned tables' service with a change
event each), as rows per second; then the same for an .ics file (at most 8,000 events: the
largest that fits in the content limit). The handler is called directly with a minimal job
context on an app started in this process, no queue: these are the import's own costs.

    .venv/bin/python bench/planner_import.py [--rows 1000 10000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from support import drop_database, fresh_database

from everything_app.app import create_app
from everything_app.core import migrations
from everything_app.core.db import UnitOfWork, unit_of_work
from everything_app.planner import import_action
from everything_app.planner.import_action import ImportArgs, run_import
from everything_app.settings import Settings

ICS_ROWS = 8000


@dataclass
class Context:
    app: FastAPI
    user_id: uuid.UUID
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)
    attempt: int = 1

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.state.settings
        return settings

    def service(self, kind: type[Any]) -> Any:
        raise LookupError(kind)

    def unit_of_work(self, *, write: bool = False) -> UnitOfWork:
        state = self.app.state
        return unit_of_work(
            state.sessionmaker, write=write, user_id=self.user_id, bus=state.changes
        )

    async def progress(self, percent: int, message: str = "") -> None:
        return None


def events_csv(rows: int) -> str:
    start = datetime(2026, 11, 16, 9, tzinfo=UTC)
    lines = ["title,start_time,end_time,description"]
    for i in range(rows):
        begin = start + timedelta(hours=i)
        end = begin + timedelta(minutes=45) if i % 10 else begin  # one in ten refused
        lines.append(f"Meeting {i},{begin.isoformat()},{end.isoformat()},note {i}")
    return "\n".join(lines) + "\n"


def events_ics(rows: int) -> str:
    start = datetime(2026, 11, 16, 9)
    parts = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    for i in range(rows):
        begin = start + timedelta(hours=i)
        parts += [
            "BEGIN:VEVENT",
            f"UID:{i}",
            f"SUMMARY:Meeting {i}",
            f"DTSTART;TZID=Europe/Paris:{begin:%Y%m%dT%H%M%S}",
            "DURATION:PT45M",
            "END:VEVENT",
        ]
    parts.append("END:VCALENDAR")
    return "\r\n".join(parts) + "\r\n"


async def user_of(app: FastAPI) -> uuid.UUID:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as client:
        response = await client.post(
            "/api/auth/sign-up/email",
            json={
                "email": f"bench-{uuid.uuid4().hex[:10]}@example.com",
                "password": "bench password",
                "name": "bench",
            },
            headers={"Origin": "http://bench.test"},
        )
        response.raise_for_status()
        return uuid.UUID(response.json()["user"]["id"])


async def measure(app: FastAPI, label: str, args: ImportArgs, rows: int) -> None:
    ctx = Context(app, await user_of(app))
    started = time.perf_counter()
    import_action.parse(args)  # reading alone, for the split below
    read = time.perf_counter() - started
    started = time.perf_counter()
    result = await run_import(ctx, args)
    total = time.perf_counter() - started
    imported = sum(result["imported"].values())
    print(
        f"  {label:<18} {rows:>6} rows: read {read * 1000:7.0f} ms, whole job "
        f"{total * 1000:7.0f} ms ({rows / total:7.0f} rows/s; {imported} written, "
        f"{len(result['refused'])} refused)"
    )


async def run(database: str, url: str, data_dir: Path, sizes: list[int]) -> None:
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        secret_key="bench-secret-key-bench-secret-key-0123456789",  # noqa: S106 - throwaway
        base_url="http://bench.test",
        auto_migrate=False,
        redis_url=None,
        log_level="WARNING",
    )
    await asyncio.to_thread(migrations.upgrade, settings)
    app = create_app(settings)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        print(f"{database}:")
        for rows in sizes:
            csv_args = ImportArgs(format="csv", table="events", content=events_csv(rows))
            await measure(app, "CSV events", csv_args, rows)
            ics_rows = min(rows, ICS_ROWS)  # the largest that fits in MAX_CONTENT
            ics_args = ImportArgs(format="ics", content=events_ics(ics_rows))
            await measure(app, "iCalendar events", ics_args, ics_rows)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        await run("SQLite", f"sqlite+aiosqlite:///{path / 'bench.db'}", path, options.rows)
        if not options.no_postgres:
            url = await fresh_database()
            try:
                pg_url = url.replace("postgresql://", "postgresql+asyncpg://")
                await run("PostgreSQL", pg_url, path / "pg", options.rows)
            finally:
                await drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
