"""core.db.unit_of_work: the one unit of work of requests and background writers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select

from everything_app.auth.models import User
from everything_app.core.changes import Change, LocalChangeBus, record_change
from everything_app.core.db import read_once, unit_of_work, write_once
from tests.conftest import privileged_db


def _user() -> User:
    return User(
        id=uuid.uuid4(), email=f"{uuid.uuid4().hex}@example.com", name="u", password_hash="x"
    )


async def _exists(app: FastAPI, user_id: uuid.UUID) -> bool:
    async with privileged_db(app) as db:
        return (await db.execute(select(User.id).where(User.id == user_id))).first() is not None


@pytest.fixture
def heard() -> tuple[LocalChangeBus, list[Change]]:
    bus, received = LocalChangeBus(), list[Change]()

    def listener(changes: Sequence[Change]) -> None:
        received.extend(changes)

    bus.listen(listener)
    return bus, received


@pytest.mark.parametrize("write", [True, False])
async def test_work_that_wrote_is_committed_then_published(
    app: FastAPI, heard: tuple[LocalChangeBus, list[Change]], write: bool
) -> None:
    bus, received = heard
    user = _user()
    # Even a unit of work opened for reading commits what it wrote, unflushed included.
    async with unit_of_work(app.state.sessionmaker, write=write, bus=bus) as db:
        db.add(user)
        record_change(db, Change("users", "insert", user.id, user.id))
        assert received == []  # nothing is heard before the commit
    assert await _exists(app, user.id)
    assert [c.row_id for c in received] == [user.id]


async def test_an_error_rolls_back_and_publishes_nothing(
    app: FastAPI, heard: tuple[LocalChangeBus, list[Change]]
) -> None:
    bus, received = heard
    user = _user()

    async def failing_work() -> None:
        async with unit_of_work(app.state.sessionmaker, write=True, bus=bus) as db:
            db.add(user)
            await db.flush()
            record_change(db, Change("users", "insert", user.id, user.id))
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        await failing_work()
    assert not await _exists(app, user.id)
    assert received == []


async def test_work_that_only_read_sends_no_statement_before_its_first_query(
    app: FastAPI,
) -> None:
    async with unit_of_work(app.state.sessionmaker, user_id=uuid.uuid4()) as db:
        assert not db.in_transaction()  # no connection taken: a cached session check
        assert (await db.execute(select(User.id).limit(1))).all() == []


async def test_a_single_statement_read_leaves_the_unit_of_work_free_to_write(
    app: FastAPI,
) -> None:
    user = _user()
    async with unit_of_work(app.state.sessionmaker, user_id=user.id) as db:
        assert (await read_once(db, select(User.id).where(User.id == user.id))).all() == []
        assert not db.in_transaction()  # the read was a transaction of its own
        db.add(user)
    assert await _exists(app, user.id)


async def test_a_read_inside_a_transaction_sees_what_it_wrote(app: FastAPI) -> None:
    user = _user()
    async with unit_of_work(app.state.sessionmaker, user_id=user.id, write=True) as db:
        db.add(user)
        await db.flush()
        rows = (await read_once(db, select(User.id).where(User.id == user.id))).all()
        assert [row[0] for row in rows] == [user.id]
        await db.rollback()
    assert not await _exists(app, user.id)


def _insert(user: User) -> Any:
    return insert(User).values(id=user.id, email=user.email, name=user.name, password_hash="x")


async def test_a_single_statement_write_is_committed_and_published_whatever_follows(
    app: FastAPI, heard: tuple[LocalChangeBus, list[Change]]
) -> None:
    """write_once commits as it returns, so an error after it cannot take the write back,
    and its change is published all the same."""
    bus, received = heard
    user = _user()

    async def failing_after_the_write() -> None:
        async with unit_of_work(app.state.sessionmaker, write=True, bus=bus) as db:
            await write_once(db, _insert(user))
            record_change(db, Change("users", "insert", user.id, user.id))
            raise RuntimeError("after the write")

    with pytest.raises(RuntimeError, match="after the write"):
        await failing_after_the_write()
    assert await _exists(app, user.id)
    assert [c.row_id for c in received] == [user.id]


async def test_a_unit_of_work_sealed_by_its_one_write_runs_no_other_statement(
    app: FastAPI, heard: tuple[LocalChangeBus, list[Change]]
) -> None:
    bus, received = heard
    user, other = _user(), _user()

    async def writing_twice() -> None:
        async with unit_of_work(app.state.sessionmaker, write=True, bus=bus) as db:
            await write_once(db, _insert(user))
            record_change(db, Change("users", "insert", user.id, user.id))
            await db.execute(_insert(other))

    with pytest.raises(RuntimeError, match="sealed by write_once"):
        await writing_twice()
    assert await _exists(app, user.id)
    assert not await _exists(app, other.id)
    assert [c.row_id for c in received] == [user.id]


async def test_a_write_after_other_work_joins_its_transaction(app: FastAPI) -> None:
    """Not the unit's first statement: no commit of its own, so an error undoes it."""
    user, other = _user(), _user()

    async def failing_work() -> None:
        async with unit_of_work(app.state.sessionmaker, write=True) as db:
            db.add(other)
            await db.flush()
            await write_once(db, _insert(user))
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError, match="the handler failed"):
        await failing_work()
    assert not await _exists(app, user.id)
    assert not await _exists(app, other.id)
