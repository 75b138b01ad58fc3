"""Row-level security on PostgreSQL, seen through the app's own connection.

The app serves as a role that is neither superuser nor BYPASSRLS. With user A set, raw SQL
sees, changes and deletes none of B's rows and cannot write a row for B (SQLSTATE 42501);
with no user set it sees nothing. Every user-owned table has RLS enabled and forced: the
list comes from the schema (every table with a `user_id`), so a new table without policies
fails here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Uuid, event, insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from everything_app.app import register_features
from everything_app.auth import Account, AccountExport, OidcIdentity, PasswordReset
from everything_app.chat.models import ChatSession, Message, ToolCallRecord
from everything_app.core import rls
from everything_app.core.db import (
    create_engine,
    create_sessionmaker,
    read_once,
    unit_of_work,
    utcnow,
    write_once,
)
from everything_app.core.jobs import Job
from everything_app.core.security import token_hash
from everything_app.gateway.models import AiUsage
from everything_app.models import metadata
from everything_app.notifications import Notification
from everything_app.owned import OwnedTables
from everything_app.planner.models import PlannerImport
from everything_app.planner.tables import TASKS
from everything_app.reservations.models import QueueEntry, Reservation, Service
from everything_app.settings import Settings
from tests.conftest import RUNTIME_LOGIN, Backends, SignedIn, privileged_db, sign_up

# Tables with a user_id that no migration protects yet. Each entry is debt with a reason;
# remove it when that feature's migration adds `core.rls.owner_policies`. None today.
NOT_YET_PROTECTED: dict[str, str] = {}
NAMED_IN_THE_ISSUE = {"sessions", "api_keys", "chat_sessions", "messages"}
OWNED = sorted(
    t.name for t in metadata.sorted_tables if "user_id" in t.c and t.name not in NOT_YET_PROTECTED
)


@pytest.fixture
def database_url(backends: Backends) -> str:
    """PostgreSQL only: SQLite has no row-level security."""
    return backends.postgresql()


@dataclass
class People:
    a: uuid.UUID
    b: uuid.UUID
    a_token: str


@pytest.fixture
async def people(signed_in: SignedIn, app: FastAPI) -> People:
    """Two users, each owning rows in every owned table."""
    ids, tokens = [], []
    for _ in range(2):
        client = await signed_in()
        session = (await client.get("/api/auth/get-session")).json()
        ids.append(uuid.UUID(session["user"]["id"]))
        tokens.append(session["session"]["token"])
        for table in register_features()[OwnedTables]:
            response = await client.post(f"/api/{table.path}", json=table.example_create)
            assert response.status_code == 201
        assert (await client.post("/api/keys", json={"name": "k"})).status_code == 201
    async with privileged_db(app) as db:
        service = Service(name="Haircut", duration_minutes=30, capacity=5)
        db.add(service)
        await db.flush()
        for position, user_id in enumerate(ids, start=1):
            chat = ChatSession(user_id=user_id, model="offline")
            reservation = Reservation(
                user_id=user_id,
                service_id=service.id,
                time_slot=utcnow() + timedelta(days=1),
                status="confirmed",
            )
            db.add_all([chat, reservation])
            await db.flush()
            question = Message(session_id=chat.id, user_id=user_id, role="user", content="hi")
            db.add(question)
            await db.flush()
            db.add(
                ToolCallRecord(
                    user_id=user_id, message_id=question.id, call_key="k", name="t", output={}
                )
            )
            db.add(AiUsage(user_id=user_id, model="offline"))
            db.add(PlannerImport(user_id=user_id, result={}))
            db.add(Job(user_id=user_id, kind="jobs.prune", args={}))
            db.add(Notification(user_id=user_id, kind="k", title="t", body="b", key="k"))
            db.add(
                AccountExport(
                    user_id=user_id,
                    job_id=uuid.uuid4(),
                    expires_at=utcnow(),
                    size=0,
                    counts={},
                    content=b"",
                )
            )
            db.add(Account(user_id=user_id, provider_id="github", account_id=f"gh-{user_id}"))
            db.add(
                OidcIdentity(user_id=user_id, issuer="https://idp.example", subject=str(user_id))
            )
            db.add(
                PasswordReset(
                    user_id=user_id,
                    token_hash=uuid.uuid4().hex * 2,
                    expires_at=utcnow() + timedelta(hours=1),
                )
            )
            db.add(
                QueueEntry(
                    service_id=service.id,
                    reservation_id=reservation.id,
                    user_id=user_id,
                    position=position,
                )
            )
        await db.commit()
    return People(a=ids[0], b=ids[1], a_token=tokens[0])


@pytest.fixture
async def app_db(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session on the app's own engine (its runtime role), acting for nobody yet."""
    async with app.state.sessionmaker() as db:
        yield db


async def _owners(db: AsyncSession, table: str) -> list[uuid.UUID]:
    rows = await db.execute(text(f"SELECT user_id FROM {table}"))
    return [row[0] for row in rows]


async def _sqlstate(db: AsyncSession, sql: str, **params: Any) -> str | None:
    """Run `sql` in a savepoint; the SQLSTATE it failed with, or None."""
    try:
        async with db.begin_nested():
            await db.execute(text(sql), params)
    except DBAPIError as exc:
        return str(getattr(exc.orig, "sqlstate", None))
    return None


async def test_the_app_runs_as_an_unprivileged_role(app_db: AsyncSession) -> None:
    row = (
        await app_db.execute(
            text(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            )
        )
    ).one()
    assert tuple(row) == (RUNTIME_LOGIN, False, False)


async def test_a_privileged_login_switches_to_the_runtime_role(database_url: str) -> None:
    engine = create_engine(Settings(database_url=database_url))  # the superuser's URL
    try:
        async with engine.connect() as conn:
            who = (await conn.execute(text("SELECT session_user, current_user"))).one()
            flags = (
                await conn.execute(
                    text(
                        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
                    )
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert tuple(who) == ("postgres", "everything_app")
    assert flags is False


async def test_every_owned_table_has_rls_enabled_and_forced(app_db: AsyncSession) -> None:
    assert NAMED_IN_THE_ISSUE | {t.table_name for t in register_features()[OwnedTables]} <= set(
        OWNED
    )
    rows = await app_db.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "  array_agg(p.polname ORDER BY p.polname) FILTER (WHERE p.polname IS NOT NULL) "
            "FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid "
            "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' "
            "GROUP BY 1, 2, 3"
        )
    )
    catalog = {name: (enabled, forced, policies or []) for name, enabled, forced, policies in rows}
    for table in OWNED:
        enabled, forced, policies = catalog[table]
        assert enabled, f"{table}: row-level security is not enabled"
        assert forced, f"{table}: row-level security is not forced"
        assert f"{table}_owner" in policies, f"{table}: no owner policy"
    for table in NOT_YET_PROTECTED:
        assert table in catalog, f"{table} is gone: drop it from NOT_YET_PROTECTED"


async def test_nothing_is_visible_without_a_user(people: People, app_db: AsyncSession) -> None:
    for table in OWNED:
        assert await _owners(app_db, table) == [], table
        updated = await app_db.execute(text(f"UPDATE {table} SET user_id = user_id"))
        assert updated.rowcount == 0, table  # type: ignore[attr-defined]


async def test_user_a_reads_and_changes_only_their_rows(
    people: People, app_db: AsyncSession, app: FastAPI
) -> None:
    await rls.set_current_user(app_db, people.a)
    for table in OWNED:
        owners = await _owners(app_db, table)
        assert owners, f"{table}: A sees none of their rows (give it rows in `people`)"
        assert set(owners) == {people.a}, table
        where_b = f"FROM {table} WHERE user_id = :b"
        assert (
            await app_db.execute(text(f"SELECT count(*) {where_b}"), {"b": people.b})
        ).scalar() == 0
        updated = await app_db.execute(
            text(f"UPDATE {table} SET user_id = user_id WHERE user_id = :b"),
            {"b": people.b},
        )
        assert updated.rowcount == 0, table  # type: ignore[attr-defined]
        deleted = await app_db.execute(text(f"DELETE {where_b}"), {"b": people.b})
        assert deleted.rowcount == 0, table  # type: ignore[attr-defined]
    await app_db.rollback()  # undo A's own-row no-op updates

    async with privileged_db(app) as db:  # B's rows are all still there
        for table in OWNED:
            assert people.b in await _owners(db, table), table


async def test_user_a_cannot_write_rows_for_b(people: People, app_db: AsyncSession) -> None:
    await rls.set_current_user(app_db, people.a)
    for table in OWNED:
        moved = await _sqlstate(
            app_db,
            f"UPDATE {table} SET user_id = :b WHERE user_id = :a",
            a=people.a,
            b=people.b,
        )
        assert moved == "42501", f"{table}: moving a row to B gave {moved}"
        # A copy of one of A's rows, given to B (fresh id; unique secrets made unique).
        columns = list(metadata.tables[table].c)
        values = [
            ":b"
            if c.name == "user_id"
            else "gen_random_uuid()"
            if c.name == "id" or (c.unique and isinstance(c.type, Uuid))
            else "md5(random()::text)"
            if c.unique
            else c.name
            for c in columns
        ]
        names = ", ".join(c.name for c in columns)
        copy = (
            f"INSERT INTO {table} ({names}) SELECT {', '.join(values)} "
            f"FROM {table} WHERE user_id = :a LIMIT 1"
        )
        assert await _sqlstate(app_db, copy, a=people.a, b=people.b) == "42501", table
    for table in OWNED:  # and the failed attempts left nothing behind
        assert set(await _owners(app_db, table)) == {people.a}


async def test_a_credential_shows_only_its_own_row(people: People, app_db: AsyncSession) -> None:
    await rls.allow_credential_lookup(app_db, token_hash(people.a_token))
    sessions = await app_db.execute(text("SELECT user_id, token_hash FROM sessions"))
    assert [tuple(r) for r in sessions] == [(people.a, token_hash(people.a_token))]
    assert await _owners(app_db, "api_keys") == []  # a session token opens no key
    assert await _owners(app_db, "tasks") == []
    changed = await app_db.execute(text("UPDATE sessions SET user_agent = 'x'"))
    assert changed.rowcount == 0  # type: ignore[attr-defined]


async def test_system_access_covers_only_the_named_tables(
    people: People, app_db: AsyncSession
) -> None:
    await rls.act_as_system(app_db, tables=["messages"], reason="test")
    assert set(await _owners(app_db, "messages")) == {people.a, people.b}
    assert await _owners(app_db, "tasks") == []
    assert await _owners(app_db, "chat_sessions") == []


async def test_the_user_survives_a_commit_in_the_same_session(
    people: People, app_db: AsyncSession
) -> None:
    await rls.set_current_user(app_db, people.b)
    assert set(await _owners(app_db, "tasks")) == {people.b}
    await app_db.commit()  # a new transaction starts without settings: they are re-applied
    assert set(await _owners(app_db, "tasks")) == {people.b}
    await rls.set_current_user(app_db, None)
    assert await _owners(app_db, "tasks") == []


async def test_requests_act_for_their_caller(people: People, app: FastAPI, new_client: Any) -> None:
    """End to end: a request authenticated by token sees its user's rows through RLS."""
    client = new_client()
    client.headers["Authorization"] = f"Bearer {people.a_token}"
    assert len((await client.get("/api/tasks")).json()["data"]) == 1
    stranger = new_client()
    await sign_up(stranger)
    assert (await stranger.get("/api/tasks")).json()["data"] == []


# --- single-statement reads (core.db.read_once): the scope the connection carries ---------


@pytest.fixture
async def one_connection(app: FastAPI) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a pool of exactly one serving connection: each reuses the last one's."""
    settings = app.state.settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0})
    engine = create_engine(settings)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def _read_owners(
    sessions: async_sessionmaker[AsyncSession], user: uuid.UUID | None, table: str = "tasks"
) -> list[uuid.UUID]:
    async with unit_of_work(sessions, user_id=user) as db:
        return [row[0] for row in await read_once(db, text(f"SELECT user_id FROM {table}"))]


async def _transaction_owners(
    sessions: async_sessionmaker[AsyncSession], user: uuid.UUID | None, table: str = "tasks"
) -> list[uuid.UUID]:
    async with unit_of_work(sessions, user_id=user) as db:
        await db.execute(text("SELECT 1"))  # a transaction begun before the read
        return [row[0] for row in await read_once(db, text(f"SELECT user_id FROM {table}"))]


async def test_a_single_statement_read_sees_its_callers_rows_only(
    people: People, one_connection: async_sessionmaker[AsyncSession]
) -> None:
    for table in OWNED:
        assert set(await _read_owners(one_connection, people.a, table)) == {people.a}, table
    assert set(await _read_owners(one_connection, people.b)) == {people.b}
    assert set(await _read_owners(one_connection, people.a)) == {people.a}
    assert await _read_owners(one_connection, None) == []


async def test_a_carried_scope_reaches_no_transaction(
    people: People, one_connection: async_sessionmaker[AsyncSession]
) -> None:
    """After a read for A, the same connection's transactions act for their own scope only:
    for nobody, for B, or (when whether the carried scope was set is unknown) for nobody."""
    assert set(await _read_owners(one_connection, people.a)) == {people.a}
    assert await _transaction_owners(one_connection, None) == []
    assert set(await _transaction_owners(one_connection, people.b)) == {people.b}
    async with one_connection() as db:  # a Core statement in a transaction, no session scope
        assert await _owners(db, "tasks") == []
    assert set(await _read_owners(one_connection, people.a)) == {people.a}
    async with one_connection() as db:
        connection = await db.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, rls.ScopedConnection)
        assert driver.carried is not None
        assert driver.carried.user_id == people.a
        driver.carried = None  # as after a set that failed half-way: unknown
        await db.rollback()
        assert await _owners(db, "tasks") == []
    assert set(await _read_owners(one_connection, people.b)) == {people.b}


async def test_a_read_of_a_carried_scope_is_one_statement(
    people: People, one_connection: async_sessionmaker[AsyncSession], monkeypatch: Any
) -> None:
    sent: list[str] = []
    original = rls.ScopedConnection.execute

    async def execute(self: rls.ScopedConnection, query: str, *args: Any, **kw: Any) -> str:
        sent.append(query)  # BEGIN, COMMIT, ROLLBACK and other simple queries
        return await original(self, query, *args, **kw)

    monkeypatch.setattr(rls.ScopedConnection, "execute", execute)
    engine = one_connection.kw["bind"]
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", _collect(statements))
    await _read_owners(one_connection, people.a)  # carries A's scope: one set_config
    sent.clear()
    statements.clear()
    assert set(await _read_owners(one_connection, people.a)) == {people.a}
    assert sent == []
    assert statements == ["SELECT user_id FROM tasks"]
    statements.clear()
    assert set(await _read_owners(one_connection, people.b)) == {people.b}  # another scope:
    assert sent == []
    assert len(statements) == 2
    assert "set_config" in statements[0]


def _collect(statements: list[str]) -> Any:
    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    return before


async def test_a_single_statement_write_is_one_statement_checked_by_its_scope(
    people: People, one_connection: async_sessionmaker[AsyncSession], monkeypatch: Any
) -> None:
    """write_once on PostgreSQL: the INSERT alone (no BEGIN, no COMMIT: it commits itself),
    under the caller's carried scope, whose policy refuses a row for someone else."""
    sent: list[str] = []
    original = rls.ScopedConnection.execute

    async def execute(self: rls.ScopedConnection, query: str, *args: Any, **kw: Any) -> str:
        sent.append(query)
        return await original(self, query, *args, **kw)

    monkeypatch.setattr(rls.ScopedConnection, "execute", execute)
    engine = one_connection.kw["bind"]
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", _collect(statements))
    await _read_owners(one_connection, people.a)  # carries A's scope
    sent.clear()
    statements.clear()

    async def write(owner: uuid.UUID) -> uuid.UUID:
        row_id = uuid.uuid4()
        async with unit_of_work(one_connection, user_id=people.a, write=True) as db:
            await write_once(db, insert(TASKS.model).values(id=row_id, user_id=owner, title="t"))
        return row_id

    mine = await write(people.a)
    assert sent == []
    assert len(statements) == 1
    assert statements[0].startswith("INSERT INTO tasks")
    b_before = await _task_ids(one_connection, people.b)
    with pytest.raises(DBAPIError) as refused:
        await write(people.b)
    assert getattr(refused.value.orig, "sqlstate", None) == "42501"
    assert mine in await _task_ids(one_connection, people.a)  # committed by itself
    assert await _task_ids(one_connection, people.b) == b_before  # nothing written for B


async def _task_ids(sessions: async_sessionmaker[AsyncSession], user: uuid.UUID) -> set[uuid.UUID]:
    async with unit_of_work(sessions, user_id=user) as db:
        return {row[0] for row in await read_once(db, text("SELECT id FROM tasks"))}
