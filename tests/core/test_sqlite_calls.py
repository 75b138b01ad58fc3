"""core.sqlite_calls: a unit of work's single read runs on the event loop's thread on SQLite,
everything else on aiosqlite's thread (so the loop never waits on SQLite's write lock)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from everything_app.core.db import create_engine, create_sessionmaker, read_once, unit_of_work
from tests.conftest import Backends, make_settings


def _probe_thread(dbapi_connection: Any, _record: Any) -> None:
    """`thread_id()` in SQL: the id of the thread SQLite runs the statement on."""
    raw = dbapi_connection.driver_connection._connection  # aiosqlite's sqlite3 connection
    raw.create_function("thread_id", 0, threading.get_ident)


@pytest.fixture
def sqlite_url(backends: Backends, tmp_path: Path) -> str:
    return backends.sqlite(tmp_path / "test.db")


@pytest.fixture
async def sessionmaker(sqlite_url: str, tmp_path: Path) -> Any:
    engine = create_engine(make_settings(sqlite_url, tmp_path))
    event.listen(engine.sync_engine, "connect", _probe_thread)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def test_a_single_read_runs_on_the_loops_thread(sessionmaker: Any) -> None:
    async with unit_of_work(sessionmaker) as db:
        ran_on = (await read_once(db, select(func.thread_id()))).scalar_one()
    assert ran_on == threading.get_ident()


@pytest.mark.parametrize("write", [False, True])
async def test_other_statements_run_on_the_drivers_thread(sessionmaker: Any, write: bool) -> None:
    async with unit_of_work(sessionmaker, write=write) as db:
        ran_on = (await db.execute(select(func.thread_id()))).scalar_one()
        # A read inside a transaction already begun runs in it, on the driver's thread too.
        then_on = (await read_once(db, select(func.thread_id()))).scalar_one()
    assert ran_on != threading.get_ident()
    assert then_on == ran_on


async def test_the_next_user_of_the_connection_is_back_on_the_drivers_thread(
    sessionmaker: Any,
) -> None:
    async with unit_of_work(sessionmaker) as db:
        await read_once(db, select(func.thread_id()))
    async with unit_of_work(sessionmaker, write=True) as db:
        ran_on = (await db.execute(select(func.thread_id()))).scalar_one()
    assert ran_on != threading.get_ident()
