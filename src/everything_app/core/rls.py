"""Row-level security on PostgreSQL: who the current transaction acts for, and the policies.

Every user-owned table has ENABLE and FORCE ROW LEVEL SECURITY and policies that compare its
`user_id` with a transaction-local setting (`app.user_id`). The application connects as a role
that is neither superuser nor BYPASSRLS, so a query that forgets its `WHERE user_id = ...`
still sees only the current user's rows, and with no user set it sees nothing. The
application's own owner checks stay: SQLite has no RLS, and a 404 is friendlier than an
empty result.

Three explicit ways to widen what a transaction may touch, each narrow and greppable:

- `set_current_user(db, user_id)`: act for one user (the auth dependency does this once it
  knows who is calling; background work for a user passes `user_id=` to `open_unit_of_work`).
- `allow_credential_lookup(db, hash)`: before anyone is known, read the one session or API key
  row whose token hash the caller presented (holding the token is the right to read its row).
- `act_as_system(db, tables=..., reason=...)`: maintenance across users (e.g. marking orphaned
  answers at start-up), limited to the named tables and logged.

The settings are applied with `set_config(..., true)`, so they end with the transaction. They
are also kept in `session.info`, and re-applied whenever the session begins a new transaction,
so a unit of work that commits half-way keeps acting for the same user.

Migrations build their policies with `owner_policies()`; the runtime role and its grants come
from `runtime_role_setup()`. On SQLite every function here is a no-op.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import ConnectionPoolEntry

from everything_app.core.logging import get_logger

log = get_logger(__name__)

USER_SETTING = "app.user_id"
ROLE_SETTING = "app.user_role"
CREDENTIAL_SETTING = "app.credential_hash"
SYSTEM_SETTING = "app.system_tables"
_SCOPE_KEY = "rls_scope"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Scope:
    """What the session's transactions may see: one user's rows, plus any system tables,
    plus (before anyone is known) the one credential row whose token hash was presented."""

    user_id: uuid.UUID | None = None
    admin: bool = False
    system_tables: tuple[str, ...] = field(default=())
    credential_hash: str | None = None

    def settings(self) -> dict[str, str]:
        """Every setting, the unset ones as "": a scope replaces whatever came before it."""
        return {
            USER_SETTING: str(self.user_id) if self.user_id else "",
            ROLE_SETTING: "admin" if self.admin and self.user_id else "",
            SYSTEM_SETTING: ",".join(self.system_tables),
            CREDENTIAL_SETTING: self.credential_hash or "",
        }


NOBODY = Scope()


# Values that may be written into SQL as literals: UUIDs, hex digests, "admin", identifiers
# joined by commas. Anything else goes as a bound parameter, in a statement of its own.
_LITERAL = re.compile(r"^[0-9a-z_,-]*$")


def _literal_sql(values: dict[str, str], *, local: bool = True) -> str | None:
    if not all(_LITERAL.match(value) for value in values.values()):
        return None
    flag = "true" if local else "false"
    calls = ", ".join(f"set_config('{name}', '{value}', {flag})" for name, value in values.items())
    return f"SELECT {calls};"


# A transaction acting for nobody, on a connection that carries a scope (see ScopedConnection).
_NOBODY_SQL = _literal_sql(NOBODY.settings())


class ScopedConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg is untyped
    """The serving pool's asyncpg connection: a transaction's scope rides on its BEGIN.

    SQLAlchemy sends BEGIN lazily, just before the transaction's first statement; when the
    session has a scope, `after_begin` (below) leaves its `set_config` calls here and they go
    out in the same simple-query message as BEGIN: one round trip instead of two. The
    values are literals of the checked shapes only (`_LITERAL`).

    A single-statement read (`core.db.read_once`) runs outside any transaction, so its
    scope cannot be transaction-local: the connection keeps it as session-level settings
    (`carried`), set by a statement of their own only when the scope differs from the one
    it already carries. Every transaction on a connection that carries a scope overrides
    all the settings at its BEGIN (its own scope, or nobody's), so a carried scope is only
    ever seen by single-statement reads made for that very scope.
    """

    begin_suffix: str | None = None
    # The session-level scope; None while unknown (a set that failed or was cut off).
    carried: Scope | None = NOBODY

    async def execute(
        self,
        query: str,
        *args: Any,
        timeout: float | None = None,  # noqa: ASYNC109 - asyncpg's own signature
    ) -> str:
        if not args and query.startswith("BEGIN"):
            suffix = self.begin_suffix
            self.begin_suffix = None
            if suffix is None and self.carried != NOBODY:
                suffix = _NOBODY_SQL
            if suffix is not None:
                query = f"{query} {suffix}"
        result: str = await super().execute(query, *args, timeout=timeout)
        return result


def clear_pending_scope(dbapi_connection: Any) -> None:
    """A pooled connection goes back: no scope may wait for another unit of work's BEGIN."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if isinstance(driver, ScopedConnection):
        driver.begin_suffix = None


def _is_postgres(db: AsyncSession) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def _set_sql(names: Sequence[str], *, local: bool) -> str:
    flag = "true" if local else "false"
    calls = ", ".join(f"set_config('{name}', :v{i}, {flag})" for i, name in enumerate(names))
    return f"SELECT {calls}"


def _apply(connection: Connection, values: dict[str, str], *, local: bool = True) -> None:
    params = {f"v{i}": value for i, value in enumerate(values.values())}
    connection.execute(text(_set_sql(list(values), local=local)), params)


def _carry(connection: Connection, driver: ScopedConnection, scope: Scope) -> None:
    """Outside a transaction: make the connection carry `scope` at session level."""
    if driver.carried == scope:
        return  # already carried: no round trip
    driver.carried = None  # unknown until the statement has succeeded
    sql = _literal_sql(scope.settings(), local=False)
    if sql is not None:
        connection.exec_driver_sql(sql)
    else:
        _apply(connection, scope.settings(), local=False)
    driver.carried = scope


@event.listens_for(Session, "after_begin")
def _reapply_scope(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    # A new transaction starts with no settings: carry the session's scope over, on the
    # BEGIN itself where the connection allows (ScopedConnection), else in a statement.
    if connection.dialect.name != "postgresql":
        return
    scope: Scope | None = session.info.get(_SCOPE_KEY)
    driver = connection.connection.driver_connection
    adapter = connection.connection.dbapi_connection
    if getattr(adapter, "isolation_level", None) == "autocommit":
        # No transaction (a single-statement read): the scope goes on the connection.
        if not isinstance(driver, ScopedConnection):
            raise RuntimeError("an autocommit unit of work needs the serving pool's connection")
        _carry(connection, driver, scope or NOBODY)
        return
    sql = _literal_sql(scope.settings()) if scope is not None else None
    # SQLAlchemy's asyncpg adapter has not sent its BEGIN yet (it does so before the first
    # statement); when it has (a session joining a transaction begun elsewhere), a statement.
    lazy_begin = getattr(adapter, "_transaction", True) is None
    if isinstance(driver, ScopedConnection) and lazy_begin:
        driver.begin_suffix = sql  # None clears whatever an earlier unit of work left
        if sql is not None or scope is None:
            return
    if scope is not None:
        _apply(connection, scope.settings())


async def _set_scope(db: AsyncSession, scope: Scope) -> None:
    if db.info.get(_SCOPE_KEY) == scope:
        return  # already in force: no round trip
    db.info[_SCOPE_KEY] = scope
    if _is_postgres(db) and db.in_transaction():
        connection = await db.connection()
        await connection.run_sync(_apply_now, scope)


def _apply_now(connection: Connection, scope: Scope) -> None:
    """The scope, in force from the next statement of the session's current transaction."""
    driver = connection.connection.driver_connection
    if getattr(connection.connection.dbapi_connection, "isolation_level", None) == "autocommit":
        assert isinstance(driver, ScopedConnection)
        _carry(connection, driver, scope)
    else:
        _apply(connection, scope.settings())


async def set_current_user(
    db: AsyncSession, user_id: uuid.UUID | None, *, admin: bool = False
) -> None:
    """From now on this session's transactions act for `user_id` (None: for nobody)."""
    current: Scope = db.info.get(_SCOPE_KEY) or Scope()
    await _set_scope(db, replace(current, user_id=user_id, admin=admin))


async def allow_credential_lookup(db: AsyncSession, credential_hash: str) -> None:
    """Let this session read the session or API key row whose hash the caller holds."""
    current: Scope = db.info.get(_SCOPE_KEY) or Scope()
    await _set_scope(db, replace(current, credential_hash=credential_hash))


async def act_as_system(
    db: AsyncSession, *, tables: Sequence[str], reason: str, quiet: bool = False
) -> None:
    """Let this session read and write every user's rows in `tables` (background work).
    Logged, unless `quiet` (a mechanism's own bookkeeping on its own table, e.g. the jobs
    engine claiming a job: a line per job would drown the rest)."""
    for table in tables:
        _check_identifier(table)
    if not quiet:
        log.info("rls_system_access", tables=list(tables), reason=reason)
    current: Scope = db.info.get(_SCOPE_KEY) or Scope()
    await _set_scope(db, replace(current, system_tables=tuple(tables)))


@asynccontextmanager
async def system_access(
    db: AsyncSession, *, tables: Sequence[str], reason: str, quiet: bool = False
) -> AsyncIterator[None]:
    """`act_as_system` for the statements inside the block only; the session's scope is
    restored after it (e.g. a user's request enqueueing one of the app's own jobs)."""
    previous: Scope = db.info.get(_SCOPE_KEY) or Scope()
    if set(tables) <= set(previous.system_tables):
        yield  # already allowed: no statement
        return
    widened = tuple(dict.fromkeys([*previous.system_tables, *tables]))
    await act_as_system(db, tables=widened, reason=reason, quiet=quiet)
    try:
        yield
    except BaseException:
        db.info[_SCOPE_KEY] = previous  # the transaction is failing: no statement now
        raise
    await _set_scope(db, previous)


# --- the runtime role -------------------------------------------------------------------


def _check_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a plain lower-case SQL identifier")
    return name


def drop_privileges_on_connect(
    engine: AsyncEngine, role: str, *, unavailable: Callable[[BaseException], bool]
) -> None:
    """Connections that log in as a superuser or BYPASSRLS role switch to `role` at once.

    This keeps a single privileged DATABASE_URL (a developer's `postgres`) safe to serve with:
    requests still run under row-level security. A login role without those attributes (the
    production set-up, see README) is used as it is.

    The switch queries a connection not yet handed out, so the driver's errors reach the
    caller unwrapped. One that means the database went away (`unavailable`: a restart cut it
    off) is raised as the `ConnectionError` it is, which the app answers as any outage (503
    with Retry-After, in each API's shape, with CORS headers); the pool closes the connection.
    """
    _check_identifier(role)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        async def switch(conn: Any) -> None:
            privileged = await conn.fetchval(
                "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
            if privileged:
                await conn.execute(f'SET ROLE "{role}"')

        try:
            dbapi_connection.run_async(switch)
        except Exception as exc:
            if unavailable(exc):
                raise ConnectionError(f"the database went away during connect: {exc!r}") from exc
            raise


# --- SQL for migrations -----------------------------------------------------------------

_USER_EXPR = f"nullif(current_setting('{USER_SETTING}', true), '')::uuid"


def _system_expr(table: str) -> str:
    return f"'{table}' = ANY(string_to_array(current_setting('{SYSTEM_SETTING}', true), ','))"


def owner_policies(
    table: str,
    *,
    owner_column: str = "user_id",
    credential_column: str | None = None,
    credential_commands: Sequence[str] = ("SELECT",),
    admin_reads: bool = False,
) -> list[str]:
    """ENABLE + FORCE RLS on `table` and its policies; the statements, in order.

    - `<table>_owner`: the current user's rows, for every command (USING and WITH CHECK, so a
      row can be neither inserted for nor moved to another user).
    - `<table>_system`: every row, while `act_as_system` names this table.
    - `<table>_credential` (tables holding token hashes): the row whose hash was presented.
    - `<table>_admin_read` (optional): administrators read every row.
    """
    for name in (table, owner_column, credential_column or "x"):
        _check_identifier(name)
    owner = f"{owner_column} = {_USER_EXPR}"
    system = _system_expr(table)
    statements = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_owner ON {table} USING ({owner}) WITH CHECK ({owner})",
        f"CREATE POLICY {table}_system ON {table} USING ({system}) WITH CHECK ({system})",
    ]
    if credential_column is not None:
        lookup = f"{credential_column} = current_setting('{CREDENTIAL_SETTING}', true)"
        for command in credential_commands:
            assert command in ("SELECT", "DELETE")
            statements.append(
                f"CREATE POLICY {table}_credential_{command.lower()} ON {table} "
                f"FOR {command} USING ({lookup})"
            )
    if admin_reads:
        statements.append(
            f"CREATE POLICY {table}_admin_read ON {table} FOR SELECT "
            f"USING (current_setting('{ROLE_SETTING}', true) = 'admin')"
        )
    return statements


def drop_owner_policies(table: str) -> list[str]:
    """Undo `owner_policies(table)`: drop its policies and turn RLS off."""
    _check_identifier(table)
    names = ("owner", "system", "credential_select", "credential_delete", "admin_read")
    return [
        *(f"DROP POLICY IF EXISTS {table}_{name} ON {table}" for name in names),
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


def runtime_role_setup(role: str) -> list[str]:
    """Create the application's runtime role if missing (NOLOGIN: login roles join it) and
    grant it data access to the schema's tables, present and future.

    Roles belong to the whole cluster, so an existing one is reused; one that is a superuser
    or BYPASSRLS is refused, since row-level security would not apply to it.
    """
    _check_identifier(role)
    return [
        f"""
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
            BEGIN
              CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
            EXCEPTION WHEN duplicate_object THEN NULL;  -- created concurrently
            END;
          END IF;
          IF (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = '{role}') THEN
            RAISE EXCEPTION 'role {role} is superuser or BYPASSRLS: RLS would not apply to it';
          END IF;
          EXECUTE format('GRANT USAGE ON SCHEMA %I TO {role}', current_schema());
          EXECUTE format(
            'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO {role}',
            current_schema());
          EXECUTE format(
            'ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
            'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}', current_schema());
        END $$
        """,  # noqa: S608 - `role` passed _check_identifier
        f"REVOKE ALL ON alembic_version FROM {role}",
    ]


def _role_exists(role: str) -> str:
    return f"EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}')"


def runtime_role_teardown(role: str, tables: Sequence[str]) -> list[str]:
    """Revoke what `runtime_role_setup` granted on `tables` and for future tables. The role
    and its schema USAGE are kept: other databases in the cluster, or other migration branches
    in this one, may use them (drop the role by hand once nothing does)."""
    _check_identifier(role)
    statements = [
        f"""
        DO $$
        BEGIN
          IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
            EXECUTE format(
              'ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
              'REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {role}', current_schema());
          END IF;
        END $$
        """  # noqa: S608 - `role` passed _check_identifier
    ]
    for table in tables:
        _check_identifier(table)
        revoke = f"REVOKE ALL ON {table} FROM {role}"
        statements.append(f"DO $$ BEGIN IF {_role_exists(role)} THEN {revoke}; END IF; END $$")
    return statements
