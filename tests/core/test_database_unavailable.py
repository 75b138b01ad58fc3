"""Which database errors mean "not now" (503, retry) rather than a bug or a bad request."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError

from everything_app.core.db import DatabaseUnreachable, create_engine, database_unavailable
from everything_app.settings import Settings
from tests.private_services import free_port


class _DriverError(Exception):
    """What SQLAlchemy's asyncpg adapter exposes: the server's SQLSTATE."""

    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "unavailable"),
    [
        ("57P01", True),  # terminating connection due to administrator command
        ("57P02", True),  # crash shutdown
        ("57P03", True),  # the database system is starting up / shutting down
        ("08006", True),  # connection failure
        ("08P01", False),  # protocol violation: a bug, retrying will not help
        ("53300", True),  # too many connections
        ("23505", False),  # unique violation: the request's fault, not the database's
        ("42501", False),  # row-level security refused a row
        ("40001", False),  # serialization failure
        (None, False),
    ],
)
def test_sqlstates(sqlstate: str | None, unavailable: bool) -> None:
    error = DBAPIError("SELECT 1", None, _DriverError(sqlstate))
    assert database_unavailable(error) is unavailable


class _SQLiteError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.sqlite_errorcode = code


@pytest.mark.parametrize(
    ("code", "unavailable"),
    [(5, True), (517, True), (6, True), (262, True), (1, False), (19, False)],
)
def test_sqlite_extended_codes_count_by_their_primary_code(code: int, unavailable: bool) -> None:
    """517 is SQLITE_BUSY_SNAPSHOT and 262 SQLITE_LOCKED_SHAREDCACHE; 19 is a constraint."""
    assert database_unavailable(DBAPIError("SELECT 1", None, _SQLiteError(code))) is unavailable


def test_a_dropped_connection_is_unavailable_whatever_its_sqlstate() -> None:
    error = DBAPIError("SELECT 1", None, _DriverError(None), connection_invalidated=True)
    assert database_unavailable(error)


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (ConnectionRefusedError(111, "Connection refused"), True),
        (ConnectionResetError(104, "Connection reset by peer"), True),
        (ValueError("a bug"), False),
        (FileNotFoundError("not a database error"), False),
    ],
)
def test_socket_errors(error: Exception, unavailable: bool) -> None:
    assert database_unavailable(error) is unavailable


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        # Raised raw in a new connection's set-up (no DBAPIError around it) when the server
        # goes away mid-query: seen in tests/core/test_postgres_restart.py.
        (asyncpg.exceptions.ConnectionDoesNotExistError("closed mid-operation"), True),
        # The same, when the shutdown message left the protocol mid-operation: seen there too.
        (
            asyncpg.exceptions.InternalClientError(
                "cannot switch to state 11; another operation (2) is in progress"
            ),
            True,
        ),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), True),  # 57P01
        (asyncpg.exceptions.CannotConnectNowError("starting up"), True),  # 57P03
        (asyncpg.exceptions.UniqueViolationError("duplicate key"), False),  # 23505
        (asyncpg.exceptions.InsufficientPrivilegeError("no"), False),  # 42501
    ],
)
def test_asyncpgs_own_errors(error: Exception, unavailable: bool) -> None:
    assert database_unavailable(error) is unavailable


def test_sqlite_busy_after_the_timeout_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held
    waiter = sqlite3.connect(path, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as raised:
            waiter.execute("BEGIN IMMEDIATE")
        busy = DBAPIError("BEGIN IMMEDIATE", None, raised.value)
        assert database_unavailable(busy)
        # Other SQLite errors are bugs or bad requests, not "not now".
        with pytest.raises(sqlite3.OperationalError) as other:
            waiter.execute("SELECT * FROM no_such_table")
        assert not database_unavailable(DBAPIError("SELECT", None, other.value))
    finally:
        waiter.close()
        holder.close()


async def test_a_refused_connect_is_named_and_unavailable() -> None:
    # Nothing listens on a port just freed: the connect is refused.
    settings = Settings(database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/none")
    engine = create_engine(settings, owner=True)
    try:
        with pytest.raises(DatabaseUnreachable) as raised:
            async with engine.connect():
                pass
    finally:
        await engine.dispose()
    assert isinstance(raised.value.__cause__, ConnectionRefusedError)
    assert database_unavailable(raised.value)


class _SettingUp:
    """A new pooled connection whose role switch (run by the pool's connect event) fails."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def run_async(self, _switch: object) -> None:
        raise self.error


@pytest.mark.parametrize(
    ("error", "as_outage"),
    [
        (asyncpg.exceptions.InternalClientError("cannot switch to state 11"), True),
        (asyncpg.exceptions.ConnectionDoesNotExistError("closed mid-operation"), True),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), True),
        # A login role that may not take the runtime role: a set-up to fix, not an outage.
        (asyncpg.exceptions.InsufficientPrivilegeError("permission denied"), False),
    ],
)
async def test_a_connection_lost_while_being_set_up_is_an_outage(
    error: Exception, as_outage: bool
) -> None:
    """Raised as a ConnectionError, which the app answers inside (503 with CORS headers, in
    each API's shape) rather than as the last-resort error the middleware writes."""
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:1/none")
    engine = create_engine(settings)  # the serving engine: it switches roles on connect
    try:
        (switch_role,) = [
            listener
            for listener in engine.sync_engine.pool.dispatch.connect
            if "drop_privileges_on_connect" in listener.__qualname__
        ]
        raised = None
        try:
            switch_role(_SettingUp(error), None)
        except Exception as exc:
            raised = exc
    finally:
        await engine.dispose()
    if as_outage:
        assert isinstance(raised, ConnectionError)
        assert raised.__cause__ is error
        assert database_unavailable(raised)
    else:
        assert raised is error
