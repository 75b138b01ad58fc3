"""Two app instances: a write on one reaches subscribers on the other, through PostgreSQL
LISTEN/NOTIFY or Redis pub/sub; a lost broker connection comes back with a resync."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis

from everything_app.auth.models import User as AuthUser
from everything_app.auth.service import set_role
from everything_app.core.db import unit_of_work
from everything_app.realtime.brokers import PostgresBroker, RedisBroker
from tests.conftest import PASSWORD, PG_URL, Backends, make_settings
from tests.realtime.conftest import FAST
from tests.realtime.support import (
    Instance,
    User,
    create_key,
    ids,
    live,
    new_user,
    start_instance,
)

pytestmark = pytest.mark.slow  # two instances and a broker per test


@dataclass
class Pair:
    a: Instance
    b: Instance
    kill_b_broker: Callable[[], Awaitable[None]]


async def _kill_postgres_listener(instance: Instance) -> None:
    broker = instance.realtime.bus.broker
    assert isinstance(broker, PostgresBroker)
    pid = broker.backend_pid
    assert pid is not None
    conn = await asyncpg.connect(PG_URL)
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


async def _kill_redis_subscriber(instance: Instance, redis_url: str) -> None:
    broker = instance.realtime.bus.broker
    assert isinstance(broker, RedisBroker)
    client = aioredis.from_url(redis_url)
    try:
        (found,) = [c for c in await client.client_list() if c["name"] == broker.client_name]
        assert await client.client_kill_filter(_id=found["id"]) == 1
    finally:
        await client.aclose()


@dataclass
class Setup:
    broker: str
    database_url: str
    redis_url: str = ""


@pytest.fixture(params=["postgres", "redis+sqlite", "redis+postgresql"])
def setup(request: pytest.FixtureRequest, backends: Backends, tmp_path: Path) -> Setup:
    """Which broker and database (sync: finding the services runs its own event loop)."""
    broker, _, database = request.param.partition("+")
    on_sqlite = database == "sqlite"
    url = backends.sqlite(tmp_path / "shared.db") if on_sqlite else backends.postgresql()
    redis_url = request.getfixturevalue("redis_url") if broker == "redis" else ""
    return Setup(broker, url, redis_url)


@pytest.fixture
async def pair(setup: Setup, tmp_path: Path) -> AsyncIterator[Pair]:
    async with _pair(setup, tmp_path) as started:
        yield started


@pytest.fixture
async def cached_pair(setup: Setup, tmp_path: Path) -> AsyncIterator[Pair]:
    """Two instances that trust a verified credential for an hour and never re-check live
    sockets on a timer: only change events can make either refuse a revoked credential."""
    async with _pair(
        setup, tmp_path, auth_cache_seconds=3600.0, realtime_revalidate_seconds=3600.0
    ) as started:
        yield started


@asynccontextmanager
async def _pair(setup: Setup, tmp_path: Path, **extra: object) -> AsyncIterator[Pair]:
    overrides: dict[str, object] = {**FAST, "realtime_broker": setup.broker, **extra}
    if setup.broker == "redis":
        prefix = f"t{uuid.uuid4().hex[:10]}"  # channels of their own: no other test hears
        overrides |= {"redis_url": setup.redis_url, "redis_prefix": prefix}
    settings = make_settings(setup.database_url, tmp_path, **overrides)
    async with AsyncExitStack() as stack:
        a = await start_instance(stack, settings, fresh=True)
        b = await start_instance(stack, settings, fresh=False)
        assert a.realtime.bus.instance_id != b.realtime.bus.instance_id

        async def kill() -> None:
            if setup.broker == "redis":
                await _kill_redis_subscriber(b, setup.redis_url)
            else:
                await _kill_postgres_listener(b)

        yield Pair(a, b, kill)


async def test_a_write_on_one_instance_reaches_subscribers_on_the_other(pair: Pair) -> None:
    user = await new_user(pair.a)
    async with live(pair.b, user=user) as on_b, live(pair.a, user=user) as on_a:
        await on_b.subscribe("k", "keys.list")
        await on_a.subscribe("k", "keys.list")
        key = await create_key(pair.a, user, "written on A")
        for client in (on_a, on_b):
            result = await client.result("k", lambda d: d["data"])
            assert (result["version"], ids(result["data"])) == (2, [key["id"]])
        # Delivered once each: nothing more is on its way to either socket.
        assert await on_a.barrier() == []
        assert await on_b.barrier() == []


async def test_revoking_on_one_instance_closes_the_socket_on_the_other(pair: Pair) -> None:
    user = await new_user(pair.a)
    async with live(pair.b, user=user, via="cookie") as on_b:
        await on_b.subscribe("k", "keys.list")
        async with pair.a.http(Cookie=user.cookie) as http:
            assert (await http.post("/api/auth/sign-out")).status_code == 200
        assert await on_b.closed() == (4401, "session_revoked")


async def test_a_lost_broker_connection_reconnects_and_resyncs(pair: Pair) -> None:
    user = await new_user(pair.a)
    async with live(pair.b, user=user) as on_b:
        await on_b.subscribe("k", "keys.list")
        await on_b.subscribe("s", "chat.sessions")
        await pair.kill_b_broker()
        # Written while B may be disconnected: B must not silently miss it.
        missed = await create_key(pair.a, user, "during the outage")
        resync = await on_b.until(lambda m: m["type"] == "resync")
        assert resync["reason"] == "broker_reconnected"
        # Every subscription gets a fresh result, changed or not.
        fresh = await on_b.result("s")
        assert fresh["version"] >= 2
        await on_b.result("k", lambda d: ids(d) == [missed["id"]])

        after = await create_key(pair.a, user, "after the outage")
        await on_b.result("k", lambda d: after["id"] in ids(d))


# --- revocation with verified-credential caches on both instances ------------------------


async def _refused(instance: Instance, headers: dict[str, str]) -> bool:
    async with instance.http(**headers) as http:
        return (await http.get("/api/keys")).status_code == 401


async def _cache_on_both(pair: Pair, headers: dict[str, str]) -> None:
    """Verify the credential on both instances, so both hold it in their caches."""
    for instance in (pair.a, pair.b):
        async with instance.http(**headers) as http:
            assert (await http.get("/api/keys")).status_code == 200
            assert (await http.get("/api/keys")).status_code == 200
        assert len(instance.app.state.credentials) >= 1


async def _sign_in(instance: Instance, user: User) -> User:
    async with instance.http() as http:
        response = await http.post(
            "/api/auth/sign-in/email", json={"email": user.email, "password": PASSWORD}
        )
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"].split(";", 1)[0]
    return User(user.id, user.email, response.json()["token"], cookie)


REVOCATIONS = ["sign-out", "revoke-session", "delete-user", "change-password", "revoke-key"]


@pytest.mark.parametrize("how", REVOCATIONS)
async def test_a_revoked_credential_is_refused_at_once_on_both_instances(
    cached_pair: Pair, how: str
) -> None:
    pair = cached_pair
    owner = await new_user(pair.a)
    # The credential that is revoked, and the one (of the same user) that revokes it.
    if how == "revoke-key":
        key = await create_key(pair.a, owner, "doomed")
        victim, actor = {"Authorization": f"Bearer {key['key']}"}, owner.bearer
        reason = "api_key_revoked"
    elif how == "sign-out":
        victim = actor = owner.bearer
        reason = "session_revoked"
    else:
        other = await _sign_in(pair.a, owner)
        victim, actor = other.bearer, owner.bearer
        reason = "session_revoked"
    await _cache_on_both(pair, victim)
    socket_user = User(owner.id, owner.email, victim["Authorization"][7:], owner.cookie)
    async with live(pair.b, user=socket_user) as on_b:
        await on_b.subscribe("k", "keys.list")
        async with pair.a.http(**actor) as http:
            if how == "sign-out":
                response = await http.post("/api/auth/sign-out")
            elif how == "revoke-session":
                sessions = (await http.get("/api/auth/list-sessions")).json()
                current = (await http.get("/api/auth/get-session")).json()["session"]["id"]
                (other_id,) = [s["id"] for s in sessions if s["id"] != current]
                response = await http.post("/api/auth/revoke-session", json={"id": other_id})
            elif how == "delete-user":
                response = await http.post("/api/auth/delete-user", json={"password": PASSWORD})
            elif how == "change-password":
                response = await http.post(
                    "/api/auth/change-password",
                    json={"currentPassword": PASSWORD, "newPassword": PASSWORD + " new"},
                )
            else:
                response = await http.delete(f"/api/keys/{key['id']}")
            assert response.status_code == 200, response.text
        # On the instance that revoked it: refused by the very next request.
        assert await _refused(pair.a, victim)
        # On the other: refused as soon as the change reaches it, which is when its live
        # socket on that credential closes (the same delivery; the TTL is an hour).
        assert await on_b.closed() == (4401, reason)
        assert await _refused(pair.b, victim)


async def test_a_role_change_reaches_the_cached_user_on_both_instances(
    cached_pair: Pair,
) -> None:
    pair = cached_pair
    user = await new_user(pair.a)
    await _cache_on_both(pair, user.bearer)
    marker = await _sign_in(pair.a, user)  # its sign-out marks when B has heard the role
    async with live(pair.b, user=marker) as on_b:
        await on_b.subscribe("k", "keys.list")
        sessionmaker = pair.a.app.state.sessionmaker
        async with unit_of_work(sessionmaker, bus=pair.a.realtime.bus) as db:
            stored = await db.get(AuthUser, user.id)
            assert stored is not None
            await set_role(db, stored, "admin")
        async with pair.a.http(**marker.bearer) as http:
            assert (await http.post("/api/auth/sign-out")).status_code == 200
        assert await on_b.closed() == (4401, "session_revoked")  # changes arrive in order
        for instance in (pair.a, pair.b):
            async with instance.http(**user.bearer) as http:
                session = (await http.get("/api/auth/get-session")).json()
                assert session["user"]["role"] == "admin"
