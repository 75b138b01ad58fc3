"""Engine, base model and the one-unit-of-work-per-request session."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import os
import sqlite3
import sys
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from sqlalchemy import DateTime, MetaData, TypeDecorator, Uuid, event, make_url
from sqlalchemy.engine import Dialect, Result
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.base import Executable
from starlette.requests import HTTPConnection

from everything_app.core import rls, sqlite_calls
from everything_app.core.changes import (
    PENDING_KEY,
    ChangeBus,
    commit_and_publish,
    take_changes,
)
from everything_app.core.errors import ServiceUnavailable, error_response
from everything_app.core.logging import get_logger
from everything_app.settings import Settings

log = get_logger(__name__)

# One naming convention so Alembic names every constraint the same way on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# SQLSTATEs that mean "not now" rather than "not this": a lost or refused connection (08000,
# 08001, 08003, 08006; not 08P01, a protocol violation, which is a bug), the server shutting
# down, crashing or starting up (57P01-57P03), no free connection slot (53300). On SQLite:
# the lock still held by another writer after busy_timeout (primary codes BUSY and LOCKED,
# whatever the extended code, e.g. SQLITE_BUSY_SNAPSHOT).
_UNAVAILABLE_SQLSTATES = frozenset(
    {"08000", "08001", "08003", "08006", "57P01", "57P02", "57P03", "53300"}
)
_BUSY_SQLITE_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that comes back aware on SQLite too (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is UTC:  # asyncpg's are UTC already: as they are
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        # The hot lists read three timestamps a row. asyncpg already gives `timestamptz` as
        # aware UTC datetimes (decoded from UTC microseconds, whatever the session's time
        # zone): nothing to do. SQLite's stored text is read as UTC in one step, where the
        # dialect's parse and `process_result_value` took a Python call each.
        if dialect.driver == "asyncpg":
            return None
        if dialect.name == "sqlite":
            return _sqlite_utc
        return super().result_processor(dialect, coltype)


def _sqlite_utc(value: str | None) -> datetime | None:
    """A timestamp as SQLite keeps it (`YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC), aware. Parsed
    with its zone appended: `datetime.replace(tzinfo=...)` costs seven times the parse."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value + "+00:00")
        if parsed.tzinfo is UTC:
            return parsed
    except ValueError:
        pass
    # Text not written by us (one naming its own offset, a bare date): the general way.
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "busy_timeout=10000",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writing unit of work takes SQLite's write lock up front: a deferred transaction
        # that reads and then writes fails with SQLITE_BUSY when another writer got in
        # between, whereas an immediate one simply waits its turn (busy_timeout).
        options = conn.get_execution_options()
        if options.get(_SINGLE_STATEMENT, False):
            return  # read_once: the statement is its own transaction (the driver autocommits)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("sqlite_immediate") else "BEGIN")


# Execution option of `read_once` on SQLite: no BEGIN (the driver is in autocommit mode).
_SINGLE_STATEMENT = "single_statement"


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot serve us right now (restarting, refusing
    connections, connection dropped, SQLite locked by a long writer), so the request may
    simply be retried: it is answered
    503 with Retry-After, not 500. Dead connections are replaced at checkout (see
    `_check_on_checkout`), so the service recovers by itself once the database is back."""
    if isinstance(exc, DBAPIError):
        sqlite_code = getattr(exc.orig, "sqlite_errorcode", None)
        return (
            exc.connection_invalidated
            or getattr(exc.orig, "sqlstate", None) in _UNAVAILABLE_SQLSTATES
            or (isinstance(sqlite_code, int) and sqlite_code & 0xFF in _BUSY_SQLITE_CODES)
        )
    # asyncpg's own error, met where SQLAlchemy does not wrap it: in a new connection's
    # set-up while the server restarts (rls.drop_privileges_on_connect asks here, and
    # raises such an error as the ConnectionError it is). A shutdown message arriving
    # mid-query there can also leave asyncpg's protocol in a state it refuses to leave
    # ("cannot switch to state …": InternalClientError); the pool closes the connection
    # either way. Only looked for once asyncpg is in use, so a SQLite process never
    # imports it.
    driver = sys.modules.get("asyncpg")
    if driver is not None:
        lost = (
            driver.exceptions.ConnectionDoesNotExistError,
            driver.exceptions.InternalClientError,
        )
        if isinstance(exc, lost):
            return True
        if isinstance(exc, driver.PostgresError):
            return exc.sqlstate in _UNAVAILABLE_SQLSTATES
    # A connect that failed at the network level, or no pooled connection free in time.
    # (DatabaseUnreachable is a ConnectionError, as are the resets asyncpg raises itself.)
    return isinstance(exc, ConnectionError | PoolTimeout)


# PostgreSQL `application_name`s: the serving pool's, and the realtime broker's dedicated
# LISTEN connection (realtime.brokers); `restore` refuses while any of them is connected.
# Owner connections (migrations, maintenance) have their own name and do not count.
SERVING_APPLICATION_NAMES = ("everything-app", "everything-app-realtime")
OWNER_APPLICATION_NAME = "everything-app-owner"


def _create_private_sqlite_file(path: Path) -> None:
    """A new database file (and directory) readable by its owner only: it holds password
    hashes and sessions. SQLite gives its -wal and -shm files the database file's mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def create_engine(settings: Settings, *, owner: bool = False) -> AsyncEngine:
    """The serving engine; `owner=True` for migrations (MIGRATION_DATABASE_URL, no role switch).

    On PostgreSQL the serving engine never runs as a superuser or BYPASSRLS role: such a login
    switches to the runtime role on connect, so row-level security always applies.
    """
    url = settings.resolved_migration_database_url if owner else settings.resolved_database_url
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            _create_private_sqlite_file(Path(database))
        # Short reads run on the loop's thread, the rest on aiosqlite's (core.sqlite_calls).
        engine = create_async_engine(url, async_creator=sqlite_calls.connector(url, timeout=30))
        _configure_sqlite(engine)
        return engine
    # Named in pg_stat_activity, so that `restore` can tell a server is connected.
    application_name = OWNER_APPLICATION_NAME if owner else SERVING_APPLICATION_NAMES[0]
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=1800,
        connect_args={
            "server_settings": {"application_name": application_name},
            "connection_class": rls.ScopedConnection,
        },
    )
    _name_connect_failures(engine)
    _check_on_checkout(engine)
    if not owner:
        rls.drop_privileges_on_connect(
            engine, settings.db_runtime_role, unavailable=database_unavailable
        )
    return engine


# A pooled connection unused for longer than this is pinged before it is handed out (a
# network path can die silently); a fresher one is only checked for a closed socket.
PING_IDLE_SECONDS = 10.0
_CHECKED_IN_AT = "checked_in_at"


def _check_on_checkout(engine: AsyncEngine) -> None:
    """What pool_pre_ping did (a BEGIN and a ROLLBACK on every checkout) at almost no cost.

    A database restart closes every connection's socket, which asyncpg notices while the
    connection sits in the pool (`is_closed`): such a connection is replaced before use, for
    free. A connection idle for long is pinged. The first disconnect error a request meets
    anyway makes SQLAlchemy invalidate every connection of the pool made before it, so
    requests started once the database is back get fresh connections.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        if driver.is_closed():
            raise DisconnectionError("the connection was closed while in the pool")
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is not None and time.monotonic() - checked_in_at > PING_IDLE_SECONDS:
            try:
                dbapi_connection.ping()
            except Exception as exc:
                raise DisconnectionError(f"the ping failed: {exc!r}") from exc

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()
        if dbapi_connection is not None:
            rls.clear_pending_scope(dbapi_connection)


class DatabaseUnreachable(ConnectionError):
    """Connecting to the database failed at the network level (refused, reset, unknown host,
    no route, timed out): asyncpg raises the socket's own error, which alone would not say
    that it came from the database."""


def _name_connect_failures(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except OSError as exc:  # TimeoutError and socket.gaierror included
            raise DatabaseUnreachable(f"cannot connect to the database: {exc!r}") from exc


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


# Session.info key: set once the unit of work wrote something (flushed, or ran an
# INSERT/UPDATE/DELETE), so that it commits; one that only read rolls back instead.
_WROTE = "wrote"


@event.listens_for(AsyncSession.sync_session_class, "after_flush")
def _flushed(session: Any, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(AsyncSession.sync_session_class, "do_orm_execute")
def _executed(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


# --- side effects after the commit ------------------------------------------------------

# Session.info key: callbacks to run once the session's transaction has committed.
_AFTER_COMMIT = "after_commit"
AfterCommit = Callable[[], Awaitable[None] | None]
# Callbacks running (held so they are not collected mid-flight).
_RELEASED: set[asyncio.Task[None]] = set()


def after_commit(db: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` once `db`'s current transaction has committed, never if it rolls back.

    For side effects that must not be seen before the data they follow (sending a job's
    message, mail): like the change events (core.changes), they are queued on the session
    and released by the commit, whoever commits (a request's unit of work, a background
    writer, `commit_and_publish`). A coroutine runs as a task of its own: the commit does
    not wait for it, and its failure is logged, not raised (its sender needs a safety net,
    as the jobs' scheduler is for job messages)."""
    db.info.setdefault(_AFTER_COMMIT, []).append(callback)


async def _run_released(callback: AfterCommit) -> None:
    try:
        outcome = callback()
        if inspect.isawaitable(outcome):
            await outcome
    except Exception:
        log.exception("after_commit_failed")


@event.listens_for(AsyncSession.sync_session_class, "after_commit")
def _release_after_commit(session: Any) -> None:
    callbacks: list[AfterCommit] = session.info.pop(_AFTER_COMMIT, [])
    if not callbacks:
        return
    loop = asyncio.get_running_loop()
    for callback in callbacks:
        task = loop.create_task(_run_released(callback))
        _RELEASED.add(task)
        task.add_done_callback(_RELEASED.discard)


@event.listens_for(AsyncSession.sync_session_class, "after_soft_rollback")
def _drop_after_commit(session: Any, previous_transaction: Any) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback leaves the rest to commit
        session.info.pop(_AFTER_COMMIT, None)


async def settle_after_commit() -> None:
    """Until the callbacks released so far have run (tests, shutdown)."""
    while _RELEASED:
        await asyncio.gather(*list(_RELEASED), return_exceptions=True)


class UnitOfWork:
    """The one unit of work of requests and background writers alike.

        async with unit_of_work(sessionmaker, user_id=..., bus=changes) as db:
            ...

    Acts for `user_id` (row-level security on PostgreSQL: the scope goes out with the
    transaction's BEGIN, no round trip of its own; see core.rls). `write=True` takes SQLite's
    write lock up front. On success it commits and then publishes the change events the work
    recorded (core.changes) when anything was written, and otherwise ends the read-only
    transaction with a rollback; on error it rolls back and drops the events. Nothing is
    sent to the database until the first statement, so work that needs none (a session
    check answered from the credential cache) costs no connection at all.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        write: bool = False,
        user_id: uuid.UUID | None = None,
        admin: bool = False,
        bus: ChangeBus | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._write = write
        self._user_id = user_id
        self._admin = admin
        self._bus = bus
        self.committing = False  # True while the commit is in flight (its outcome unknown)
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> AsyncSession:
        self._session = await open_unit_of_work(
            self._sessionmaker, write=self._write, user_id=self._user_id, admin=self._admin
        )
        return self._session

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        session = self._session
        assert session is not None
        if session.info.get(_SEALED):
            # `write_once` committed the work: its changes happened, whatever came after.
            try:
                await commit_and_publish(session, self._bus)  # nothing left to commit
            finally:
                await session.close()
            return
        if exc is None and _untouched(session):
            return  # no transaction begun, nothing pending (a cached session check): no-op
        try:
            if exc is None:
                if (
                    self._write
                    or session.info.get(_WROTE)
                    or session.info.get(PENDING_KEY)
                    or session.new
                    or session.dirty
                    or session.deleted
                ):
                    self.committing = True
                    await commit_and_publish(session, self._bus)
                    self.committing = False
                else:
                    await session.rollback()  # read only: nothing to make durable
        except BaseException:
            take_changes(session)
            await _rollback_quietly(session)
            raise
        finally:
            if exc is not None:
                take_changes(session)
                await _rollback_quietly(session)
            await session.close()


def _untouched(session: AsyncSession) -> bool:
    return not (
        session.in_transaction()
        or session.info.get(PENDING_KEY)
        or session.new
        or session.dirty
        or session.deleted
        or session.identity_map
    )


def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    write: bool = False,
    user_id: uuid.UUID | None = None,
    admin: bool = False,
    bus: ChangeBus | None = None,
) -> UnitOfWork:
    return UnitOfWork(sessionmaker, write=write, user_id=user_id, admin=admin, bus=bus)


async def open_unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    write: bool,
    user_id: uuid.UUID | None = None,
    admin: bool = False,
) -> AsyncSession:
    """A session whose transaction is opened for reading or (on SQLite, locked) for writing;
    the caller ends it. Prefer `unit_of_work`, which also ends it.

    Work done on a user's behalf outside a request (e.g. finishing a streamed answer) passes
    `user_id`: on PostgreSQL row-level security shows a session acting for nobody no rows.
    """
    session = sessionmaker()
    if write and session.bind is not None and session.bind.dialect.name == "sqlite":
        # BEGIN IMMEDIATE, at the first statement (none when the work needs no database).
        session.bind = _immediate(session.bind)
    if user_id is not None:
        await rls.set_current_user(session, user_id, admin=admin)
    elif admin:
        # The app's own work for nobody in particular (a backup, housekeeping, a system
        # job): every table, as `act_as_system` allows it, logged.
        await rls.act_as_system(session, tables=sorted(Base.metadata.tables), reason="system work")
    return session


_IMMEDIATE: weakref.WeakKeyDictionary[Any, AsyncEngine] = weakref.WeakKeyDictionary()


def _immediate(bind: Any) -> AsyncEngine:
    """`bind` with SQLite's write lock taken by each transaction's BEGIN (one per engine)."""
    found = _IMMEDIATE.get(bind)
    if found is None:
        found = _IMMEDIATE[bind] = bind.execution_options(sqlite_immediate=True)
    return found


async def read_once(
    db: AsyncSession, statement: Executable, parameters: dict[str, Any] | None = None
) -> Result[Any]:
    """Run the one read `statement` of a unit of work that has not touched the database yet
    as a transaction of its own: one round trip on PostgreSQL (no BEGIN, no ROLLBACK; the
    session's row-level scope rides on the connection, see core.rls), one call on SQLite.
    The connection goes back to the pool at once, so the session can still begin a
    transaction afterwards. Inside a transaction already begun, the statement simply runs
    in it (same snapshot and scope as the rest)."""
    if db.in_transaction() or db.new or db.dirty or db.deleted:
        return await (await db.connection()).execute(statement, parameters)
    if db.get_bind().dialect.name == "sqlite":
        # A short read: on the loop's thread, no hand-over to the driver's (core.sqlite_calls).
        with sqlite_calls.calls_on_loop():
            return await _read_alone(db, statement, parameters, {_SINGLE_STATEMENT: True})
    return await _read_alone(db, statement, parameters, {"isolation_level": "AUTOCOMMIT"})


async def write_once(
    db: AsyncSession, statement: Executable, parameters: dict[str, Any] | None = None
) -> Result[Any]:
    """Run `statement`, the one write of a unit of work that has not touched the database
    yet, as a transaction of its own, committed as it returns: one round trip on PostgreSQL
    (no BEGIN, no COMMIT; the row-level scope rides on the connection as for `read_once`)
    where a unit of work's BEGIN, statement and COMMIT take three.

    The unit of work is then sealed: the write cannot be rolled back with anything done
    after it, so another statement in it is a programming error (raised at its BEGIN), and
    the changes it recorded are published when it ends, even if an error follows. Callers
    use it where the write is the whole of the work (a REST create or delete). A database
    lost while the statement was in flight is `commit_outcome_unknown` (503, no retry
    invited), as a COMMIT cut off is: the write may have landed. On SQLite the
    statement is the unit's transaction, committed at once: the same outcome. Inside a
    transaction already begun, the statement simply runs in it.
    """
    if not _untouched(db):
        db.info[_WROTE] = True
        return await (await db.connection()).execute(statement, parameters)
    result: Result[Any]
    if db.get_bind().dialect.name == "sqlite":
        result = await (await db.connection()).execute(statement, parameters)
        await db.commit()
    else:
        options = {"isolation_level": "AUTOCOMMIT"}
        result = await _read_alone(db, statement, parameters, options, writes=True)
    db.info[_SEALED] = True
    return result


# Session.info key: the unit of work's one write has been committed by `write_once`.
_SEALED = "sealed"


@event.listens_for(AsyncSession.sync_session_class, "after_begin")
def _refuse_after_seal(session: Any, _transaction: Any, _connection: Any) -> None:
    if session.info.get(_SEALED):
        raise RuntimeError("a unit of work sealed by write_once runs no other statement")


async def _read_alone(
    db: AsyncSession,
    statement: Executable,
    parameters: dict[str, Any] | None,
    options: dict[str, Any],
    *,
    writes: bool = False,
) -> Result[Any]:
    """`statement` on a connection of its own (`options`), outside any transaction. Losing
    the database before the statement is sent is an outage like any other (retry); losing
    it with a write in flight, that write's own commit, is `commit_outcome_unknown`."""
    connection = await db.connection(execution_options=options)
    try:
        # Fetched whole (an async result is buffered), so it outlives the connection.
        return await connection.execute(statement, parameters)
    except Exception as error:
        if writes and database_unavailable(error):
            # It may have landed: say so, and do not invite a retry (as for a COMMIT cut
            # off, see UnitOfWork).
            raise commit_outcome_unknown() from error
        raise
    finally:
        # Nothing to roll back: ends the session's use of the connection (quietly: after a
        # lost connection this fails too, and the first error is the one to report).
        await _rollback_quietly(db)


# request.state attributes: whom the request acts for, and its unit of work once open.
_ACTING_FOR = "acting_for"
_REQUEST_SESSION = "request_session"


async def act_for_request(request: HTTPConnection, user_id: uuid.UUID, *, admin: bool) -> None:
    """From now on the request's unit of work acts for `user_id` (row-level security),
    whether it is open already or opens later: the caller is known before or after the
    handler's session dependency, in whichever order the route declares them."""
    setattr(request.state, _ACTING_FOR, (user_id, admin))
    session: AsyncSession | None = getattr(request.state, _REQUEST_SESSION, None)
    if session is not None:
        await rls.set_current_user(session, user_id, admin=admin)


async def _request_session(request: Request) -> AsyncSession:
    """The request's unit of work: committed when the handler returns, rolled back on error.

    Ended with the handler (FastAPI's per-function exit stack, what a `scope="function"`
    generator dependency uses), so the commit happens before the response is sent. Change
    events the handler recorded are published after the commit, never on rollback. A plain
    coroutine rather than a generator dependency: FastAPI wraps those in context managers
    and cancel scopes that cost a write request a twentieth of its time.
    """
    state = request.app.state
    work = unit_of_work(
        state.sessionmaker,
        write=request.method not in SAFE_METHODS,
        bus=getattr(state, "changes", None),
    )
    session = await work.__aenter__()
    try:
        acting: tuple[uuid.UUID, bool] | None = getattr(request.state, _ACTING_FOR, None)
        if acting is not None:
            await rls.set_current_user(session, acting[0], admin=acting[1])
    except BaseException as exc:
        await work.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    handler_stack: contextlib.AsyncExitStack = request.scope["fastapi_function_astack"]
    handler_stack.push_async_exit(functools.partial(_end_request_work, work))
    setattr(request.state, _REQUEST_SESSION, session)
    return session


async def _end_request_work(
    work: UnitOfWork, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
) -> bool:
    """Commit (or, after an error, roll back) the request's unit of work; the handler's
    error, if any, goes on (False)."""
    try:
        await work.__aexit__(exc_type, exc, tb)
    except Exception as error:
        if work.committing and database_unavailable(error):
            # Lost during COMMIT: it may have landed. Say so, and do not invite a retry.
            raise commit_outcome_unknown() from error
        raise
    return False


async def _rollback_quietly(session: AsyncSession) -> None:
    """Roll back without hiding the error being raised: when the connection died with that
    error (the database shutting down), the rollback fails too, and the first error is the
    one that says what happened. Closing the session then discards the broken connection."""
    try:
        await session.rollback()
    except Exception as exc:
        log.warning("rollback_failed", error=repr(exc))


SessionDep = Annotated[AsyncSession, Depends(_request_session)]


def commit_outcome_unknown() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The database went away while saving: the change may or may not have been made. "
        "Check before retrying.",
        code="commit_outcome_unknown",
        retry_after=None,
    )


async def _answer_unavailable(request: Request, exc: Exception) -> Response:
    if not database_unavailable(exc):
        raise exc  # a bug, not an outage: the last-resort 500 (RequestContextMiddleware)
    log.warning("database_unavailable", path=request.url.path, error=repr(exc))
    return error_response(request, ServiceUnavailable())


def install_database_error_handlers(app: FastAPI) -> None:
    """503 with Retry-After for a database that cannot serve right now, answered inside the
    app so the response carries CORS headers like any other error."""
    for kind in (DBAPIError, ConnectionError, PoolTimeout):
        app.add_exception_handler(kind, _answer_unavailable)
