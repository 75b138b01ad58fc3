"""`core.db.after_commit`: side effects released by the commit, dropped by a rollback."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from everything_app.core.db import after_commit, settle_after_commit, unit_of_work


async def test_callbacks_run_after_the_commit_only(app: FastAPI) -> None:
    seen: list[str] = []
    committed = asyncio.Event()

    async def note(what: str) -> None:
        seen.append(what)
        committed.set()

    async with unit_of_work(app.state.sessionmaker, write=True) as db:
        await db.execute(text("SELECT 1"))
        after_commit(db, lambda: note("kept"))
        assert seen == []  # not before the commit
    await asyncio.wait_for(committed.wait(), 10)
    assert seen == ["kept"]

    async def rolled_back() -> None:
        async with unit_of_work(app.state.sessionmaker, write=True) as db:
            await db.execute(text("SELECT 1"))
            after_commit(db, lambda: note("dropped"))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await rolled_back()
    await settle_after_commit()
    assert seen == ["kept"]


async def test_a_savepoint_rollback_keeps_the_outer_work_callbacks(app: FastAPI) -> None:
    seen: list[str] = []
    async with unit_of_work(app.state.sessionmaker, write=True) as db:
        await db.execute(text("SELECT 1"))
        after_commit(db, lambda: seen.append("outer"))
        nested = await db.begin_nested()
        await nested.rollback()
    await settle_after_commit()
    assert seen == ["outer"]


async def test_a_failing_callback_is_logged_not_raised(app: FastAPI) -> None:
    def broken() -> None:
        raise ValueError("broken")

    async with unit_of_work(app.state.sessionmaker, write=True) as db:
        await db.execute(text("SELECT 1"))
        after_commit(db, broken)
    await settle_after_commit()
