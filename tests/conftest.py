"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

Schemas are built by running the migrations (once per test process and backend). Each test
then gets a clean database: a fresh copy of the migrated SQLite file, or a PostgreSQL database
whose tables are emptied. (Rolling back one outer transaction per test would not work here:
tests drive concurrent requests and real server processes, which need their own connections.)

Tests run in parallel processes (pytest-xdist, see scripts/test.sh). Each process has its own
PostgreSQL database and temporary directory; Redis keys and channels carry a prefix of the
test's own; servers a test starts (tests/private_services.py) listen on free ports.

A test that needs the app with other settings asks for `app_with`:
`running = await app_with(docs_enabled=False)`, then `running.client()`.

PostgreSQL and Redis are expected on 127.0.0.1. Outside CI their tests skip when the
service is absent; with CI=true a missing service fails the run.

On PostgreSQL the app runs as it does in production: migrations as the owner (`PG_URL`'s
superuser, `MIGRATION_DATABASE_URL`), requests as `RUNTIME_LOGIN`, a login role that is
neither superuser nor BYPASSRLS, so row-level security applies to every test. Tests that
inspect or rig rows behind the app's back use `privileged_db(app)`.
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.app import create_app
from everything_app.auth.models import User
from everything_app.auth.service import set_role
from everything_app.core import heap, migrations
from everything_app.core.changes import commit_and_publish
from everything_app.core.db import create_engine, create_sessionmaker, open_unit_of_work
from everything_app.core.route_index import RouteIndex
from everything_app.models import metadata
from everything_app.settings import Settings
from tests.mail.smtp_server import SmtpServer
from tests.private_services import PrivatePostgres, postgres_available, private_postgres

IN_CI = os.environ.get("CI") == "true"
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BASE_URL = "http://testserver"
SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"
# The app's login on PostgreSQL: a member of the runtime role the migrations create.
RUNTIME_LOGIN = "ea_test_app"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first, in their order otherwise. scripts/test.sh's workers take tests from
    one queue in small batches (`--dist load --maxschedchunk`), so the long tests start early
    and spread over the workers, and the run ends on short ones, not on one worker alone in
    a long test."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def require_service(available: bool, reason: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: services are required)")
    pytest.skip(reason)


async def _pg_reachable() -> bool:
    try:
        conn = await asyncpg.connect(PG_URL, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


async def _redis_reachable() -> bool:
    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError):
        return False
    finally:
        await client.aclose()
    return True


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def create_pg_database() -> str:
    """A new, empty PostgreSQL database; returns its URL."""
    name = f"ea_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _with_database(PG_URL, name)


async def ensure_runtime_login(url: str, runtime_role: str = "everything_app") -> None:
    """Create (once per cluster) the unprivileged login role the tests serve with."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            f"""
            DO $$ BEGIN
              CREATE ROLE {RUNTIME_LOGIN} LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE {runtime_role};
            EXCEPTION WHEN duplicate_object THEN NULL;
            END $$
            """
        )
    finally:
        await conn.close()


# Any fixed number: the key of the advisory lock that `migrated_pg_database` holds.
_MIGRATION_LOCK = 0x6561_7465_7374


async def migrated_pg_database() -> str:
    """A new database, migrated, with RUNTIME_LOGIN in place; its owner's URL.

    Migrations create cluster-wide roles (`CREATE ROLE` racing another `CREATE ROLE` of the
    same name fails), so parallel test processes (pytest-xdist workers, other test runs on
    the same server) take turns, holding an advisory lock on `PG_URL`'s database."""
    url = await create_pg_database()
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        await asyncio.to_thread(migrations.upgrade, Settings(database_url=url))
        await ensure_runtime_login(url)
    finally:
        await conn.close()  # releases the lock
    return url


def runtime_url(url: str) -> str:
    """The same database, logged in as RUNTIME_LOGIN."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{RUNTIME_LOGIN}@{rest.partition('@')[2]}"


async def drop_pg_database(url: str) -> None:
    name = url.rpartition("/")[2]
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class Backends:
    """Migrated template databases, made once per test run."""

    tmp: Path
    sqlite_template: Path | None = None
    pg_url: str | None = None
    pg_checked: bool = False

    def sqlite(self, dest: Path) -> str:
        if self.sqlite_template is None:
            self.sqlite_template = self.tmp / "template.db"
            migrations.upgrade(Settings(database_url=f"sqlite:///{self.sqlite_template}"))
        shutil.copy(self.sqlite_template, dest)
        return f"sqlite:///{dest}"

    def postgresql(self) -> str:
        if not self.pg_checked:
            self.pg_checked = True
            if asyncio.run(_pg_reachable()):
                self.pg_url = asyncio.run(migrated_pg_database())
        require_service(self.pg_url is not None, f"PostgreSQL is not reachable at {PG_URL}")
        assert self.pg_url is not None
        return self.pg_url


@pytest.fixture(scope="session")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    found = Backends(tmp=tmp_path_factory.mktemp("db"))
    yield found
    if found.pg_url:
        asyncio.run(drop_pg_database(found.pg_url))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, backends: Backends, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return backends.sqlite(tmp_path / "test.db")
    return backends.postgresql()


@pytest.fixture
def redis_url() -> str:
    require_service(asyncio.run(_redis_reachable()), f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for an app on `database_url`; on PostgreSQL it serves as RUNTIME_LOGIN."""
    serving = runtime_url(database_url) if database_url.startswith("postgres") else database_url
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": serving,
        "migration_database_url": database_url,
        "secret_key": SECRET,
        "base_url": BASE_URL,
        "auto_migrate": False,
        "redis_url": None,
        # No backups or sweeps by the clock in the middle of a test: a test that wants them
        # runs their job kinds, or names a schedule.
        "backup_schedule": "",
        "housekeeping_schedule": "",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


async def truncate_all(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    if settings.is_sqlite:
        return
    await truncate_pg_database(settings.resolved_migration_database_url.replace("+asyncpg", ""))


async def truncate_pg_database(owner_url: str) -> None:
    """Empty every table of the PostgreSQL database at `owner_url` (the tables' owner)."""
    # DELETE, not TRUNCATE: on tables of a few rows it takes a millisecond where TRUNCATE
    # (new files for every table) took a quarter of a second, for every test. As the owner,
    # a superuser: row security does not apply, and `replica` turns off triggers (foreign
    # keys included: the order does not matter), as TRUNCATE fires none either.
    deletes = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(metadata.sorted_tables))
    conn = await asyncpg.connect(owner_url)
    try:
        await conn.execute(f"SET session_replication_role = replica; {deletes}")
    finally:
        await conn.close()


@asynccontextmanager
async def privileged_db(app: FastAPI, *, write: bool = True) -> AsyncIterator[AsyncSession]:
    """A session that sees every user's rows: the owner's (superuser) connection on
    PostgreSQL, where the app's own sessions see only the current user's rows. `write`: on
    SQLite, take the write lock up front (as the app's writers do): a transaction that reads
    and then writes fails at once with "database is locked" when another writer (the jobs
    engine's scheduler, say) committed in between."""
    settings: Settings = app.state.settings
    if settings.is_sqlite:
        db = await open_unit_of_work(app.state.sessionmaker, write=write)
        try:
            yield db
        finally:
            await db.close()
        return
    engine = create_engine(settings, owner=True)
    try:
        async with create_sessionmaker(engine)() as db:
            yield db
    finally:
        await engine.dispose()


async def make_admin(app: FastAPI, user_id: uuid.UUID | str) -> None:
    """Promote a user behind the API's back (as `create-admin` does), announcing it on the
    app's change bus as the app would: servers cache verified credentials, and the
    announcement is what tells them the user's role changed."""
    async with privileged_db(app, write=True) as db:
        user = await db.get(User, uuid.UUID(str(user_id)))
        assert user is not None
        await set_role(db, user, "admin")
        await commit_and_publish(db, app.state.changes)


async def start_app(stack: AsyncExitStack, settings: Settings, *, fresh: bool = True) -> FastAPI:
    """`create_app(settings)` with its lifespan, stopped when `stack` closes. `fresh` empties
    the database first (apps that join a running one share its data)."""
    app = create_app(settings)
    await stack.enter_async_context(app.router.lifespan_context(app))
    if fresh:
        await truncate_all(app)
    return app


def asgi_client(
    app: FastAPI,
    *,
    origin: str | None = BASE_URL,
    base_url: str = BASE_URL,
    raise_app_exceptions: bool = True,
) -> httpx.AsyncClient:
    """A client calling `app` in-process, with a cookie jar of its own, sending the Origin a
    browser on our site would (`origin=None`: none, as a script or server does)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions),
        base_url=base_url,
        headers={"Origin": origin} if origin is not None else {},
    )


@dataclass
class Running:
    """An app started by `app_with`, and clients to it that are closed with it."""

    app: FastAPI
    stack: AsyncExitStack

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.state.settings
        return settings

    def client(
        self,
        *,
        origin: str | None = BASE_URL,
        base_url: str = BASE_URL,
        raise_app_exceptions: bool = True,
    ) -> httpx.AsyncClient:
        """A new `asgi_client` of this app."""
        client = asgi_client(
            self.app, origin=origin, base_url=base_url, raise_app_exceptions=raise_app_exceptions
        )
        self.stack.push_async_callback(client.aclose)
        return client


AppWith = Callable[..., Awaitable[Running]]


@pytest.fixture
async def app_with(database_url: str, tmp_path: Path) -> AsyncIterator[AppWith]:
    """Start the app with settings of the test's own: `await app_with(docs_enabled=False)`
    (keywords override `make_settings`). Every app started this way runs until the test ends
    and uses the test's database; the first empties it, later ones share its data."""
    async with AsyncExitStack() as stack:
        started: list[Running] = []

        async def start(**overrides: Any) -> Running:
            settings = make_settings(database_url, tmp_path, **overrides)
            app = await start_app(stack, settings, fresh=not started)
            started.append(Running(app, stack))
            return started[-1]

        yield start


@pytest.fixture(autouse=True, scope="session")
def _freeze_without_collecting() -> Iterator[None]:
    """Every app start settles the heap (`everything_app.core.heap.settle`: a full collection,
    then `gc.freeze`). In a test process that collection walks the whole run's heap, 0.15 s
    and more for each of some 1,500 app starts: a fifth of the suite's CPU time. Tests keep
    the freeze (tests/core/test_http.py checks it) and skip the collection."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(heap, "settle", gc.freeze)
        yield


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with AsyncExitStack() as stack:
        yield await start_app(stack, settings)


ClientFactory = Callable[[], httpx.AsyncClient]


@pytest.fixture
async def new_client(app: FastAPI) -> AsyncIterator[ClientFactory]:
    """Clients with their own cookie jars, sending the Origin a browser on our site would."""
    async with AsyncExitStack() as stack:

        def factory() -> httpx.AsyncClient:
            client = asgi_client(app)
            stack.push_async_callback(client.aclose)
            return client

        yield factory


@pytest.fixture
def client(new_client: ClientFactory) -> httpx.AsyncClient:
    return new_client()


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


async def sign_up(
    client: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD, **extra: Any
) -> dict[str, Any]:
    body = {"email": email or unique_email(), "password": password, "name": "Test User", **extra}
    response = await client.post("/api/auth/sign-up/email", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


SignedIn = Callable[[], Awaitable[httpx.AsyncClient]]


@pytest.fixture
def signed_in(new_client: ClientFactory) -> SignedIn:
    """A new user, signed up, with a client holding their session cookie."""

    async def factory() -> httpx.AsyncClient:
        client = new_client()
        await sign_up(client)
        return client

    return factory


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a loopback port, for tests that send mail."""
    server = SmtpServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def restartable_postgres() -> AsyncIterator[tuple[PrivatePostgres, str]]:
    """A migrated database on a PostgreSQL cluster of the test's own, which the test may
    stop, crash and restart; its superuser (owner) URL. The app serves as RUNTIME_LOGIN."""
    if not postgres_available():
        if IN_CI:
            pytest.fail("PostgreSQL's initdb and pg_ctl are needed (CI=true)")
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    async with private_postgres() as cluster:
        url = await cluster.create_database("everything_app")
        await asyncio.to_thread(migrations.upgrade, Settings(database_url=url))
        await ensure_runtime_login(url)
        yield cluster, url


@contextmanager
def fastapi_only(app: FastAPI) -> Iterator[None]:
    """Every route served by FastAPI's own request handling while the block runs, none
    directly (core.direct_routes): to hold both paths to the same answers."""
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    direct, index.direct = index.direct, {}
    try:
        yield
    finally:
        index.direct = direct
