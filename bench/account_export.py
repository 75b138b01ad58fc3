"""Benchmark: `account.export` for a user with many messages, on SQLite and PostgreSQL.

Seeds one user with `--messages` chat messages (and a second user with as many, whom the
export must skip), then runs the job's handler in-process, acting as the user, and prints
the time it took, rows per second, the archive's size, and how much the process's peak
resident memory grew (the sections are read in keyset pages of 1,000 rows and the archive
spooled to a temporary file past 8 MiB, so it should track the archive, not the rows).

    .venv/bin/python bench/account_export.py [--messages 200000] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI
from sqlalchemy import insert
from support import drop_database, fresh_database

from everything_app.app import create_app
from everything_app.auth import User
from everything_app.chat import ChatSession, Message
from everything_app.core import migrations
from everything_app.core.db import UnitOfWork, create_engine, create_sessionmaker, unit_of_work
from everything_app.core.jobs import JobKinds, JobServices
from everything_app.settings import Settings

ServiceT = TypeVar("ServiceT")


@dataclass
class Context:
    app: FastAPI
    user_id: uuid.UUID | None
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)
    attempt: int = 1
    services: JobServices = field(default_factory=JobServices)

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.state.settings
        return settings

    def service(self, kind: type[ServiceT]) -> ServiceT:
        return self.services.get(kind)

    def unit_of_work(self, *, write: bool = False) -> UnitOfWork:
        return unit_of_work(
            self.app.state.sessionmaker,
            write=write,
            user_id=self.user_id,
            bus=self.app.state.changes,
        )

    async def progress(self, percent: int, message: str = "") -> None:
        return None


async def _seed(settings: Settings, messages: int) -> uuid.UUID:
    """Two users with `messages` messages each, as the owner (no row-level security)."""
    engine = create_engine(settings, owner=True)
    users = [uuid.uuid4(), uuid.uuid4()]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        async with create_sessionmaker(engine)() as db:
            for n, user_id in enumerate(users):
                await db.execute(
                    insert(User).values(
                        id=user_id, email=f"bench{n}-{user_id.hex[:6]}@example.com",
                        name="Bench", password_hash="x",  # noqa: S106 - no one signs in role="user", email_verified=False,
                        created_at=start, updated_at=start,
                    )
                )  # fmt: skip
                chat = uuid.uuid4()
                await db.execute(
                    insert(ChatSession).values(
                        id=chat, user_id=user_id, title="Long", model="offline",
                        created_at=start, updated_at=start,
                    )
                )  # fmt: skip
                batch = 5000
                for offset in range(0, messages, batch):
                    rows: list[dict[str, Any]] = [
                        _message(chat, user_id, i, start + timedelta(seconds=i))
                        for i in range(offset, min(offset + batch, messages))
                    ]
                    await db.execute(insert(Message), rows)
            await db.commit()
    finally:
        await engine.dispose()
    return users[0]


def _message(chat: uuid.UUID, user_id: uuid.UUID, i: int, at: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "session_id": chat,
        "user_id": user_id,
        "role": "user" if i % 2 == 0 else "assistant",
        "content": f"message number {i}, " + "lorem ipsum " * 8,
        "status": "complete",
        "created_at": at,
        "updated_at": at,
    }


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(database: str, messages: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = await fresh_database() if database == "postgres" else None
        try:
            settings = Settings(
                data_dir=Path(tmp),
                database_url=url or f"sqlite+aiosqlite:///{tmp}/bench.db",
                base_url="http://localhost:8000",
                auto_migrate=False,
                log_level="WARNING",
            )
            await asyncio.to_thread(migrations.upgrade, settings)
            user_id = await _seed(settings, messages)
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                kind = app.state.registry[JobKinds].get("account.export")
                assert kind is not None
                rss_before = _max_rss_mib()
                started = time.perf_counter()
                result = await kind.run(Context(app, user_id), kind.args())
                seconds = time.perf_counter() - started
                rss_after = _max_rss_mib()
            rows = sum(result["counts"].values())
            print(f"account.export on {database}: {messages:,} messages of the user "
                  f"(and {messages:,} of another user, skipped)")  # fmt: skip
            print(f"  {seconds:.2f} s, {rows / seconds:,.0f} rows/s, archive "
                  f"{result['size'] / 1e6:.1f} MB, peak RSS +{rss_after - rss_before:.0f} MiB "
                  f"(to {rss_after:.0f} MiB)")  # fmt: skip
        finally:
            if url is not None:
                await drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    asyncio.run(run(args.database, args.messages))


if __name__ == "__main__":
    main()
