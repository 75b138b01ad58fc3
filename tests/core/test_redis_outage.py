"""Redis stopped while the service runs: requests are still served, rate limits still hold
(each instance on its own counters), and nothing waits on the dead connection.

A private redis-server on a free port plays the shared Redis, so stopping it disturbs no
other test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, PASSWORD, AppWith, make_settings, sign_up, unique_email
from tests.private_services import REDIS_SERVER, private_redis
from tests.realtime.conftest import FAST
from tests.realtime.support import create_key, ids, live, new_user, start_instance

pytestmark = pytest.mark.slow  # stops and restarts a private Redis


@pytest.fixture
async def redis_to_stop() -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    if REDIS_SERVER is None:
        if IN_CI:
            pytest.fail("redis-server is needed (CI=true)")
        pytest.skip("redis-server is not installed")
    async with private_redis() as found:
        yield found


async def _fail_sign_in(client: httpx.AsyncClient, email: str) -> int:
    response = await client.post(
        "/api/auth/sign-in/email", json={"email": email, "password": "wrong password"}
    )
    return response.status_code


async def test_service_survives_redis_stopping(
    redis_to_stop: tuple[str, asyncio.subprocess.Process], app_with: AppWith
) -> None:
    redis_url, redis_process = redis_to_stop
    running = await app_with(redis_url=redis_url, realtime_broker="redis")
    client = running.client()
    email = unique_email()
    await sign_up(client, email=email)
    assert running.app.state.limiter.backend == "redis"
    assert await _fail_sign_in(client, email) == 401  # counted in Redis

    redis_process.kill()  # Redis goes away for good
    await redis_process.wait()

    assert (await client.get("/api/auth/get-session")).json()["user"]["email"] == email
    assert (await client.post("/api/keys", json={"name": "while redis is down"})).status_code == 201
    assert (await client.get("/api/keys")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200  # readiness is the database's
    # The sign-in limit still holds, on this instance's own counters.
    statuses = [await _fail_sign_in(client, email) for _ in range(6)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    right = await client.post(
        "/api/auth/sign-in/email", json={"email": email, "password": PASSWORD}
    )
    assert right.status_code == 429


async def test_live_queries_through_a_redis_outage(
    database_url: str, tmp_path: Path, redis_to_stop: tuple[str, asyncio.subprocess.Process]
) -> None:
    """While Redis is away each instance still serves its own subscribers; when it is back,
    every instance reconnects and resyncs, so what crossed no broker is not silently lost."""
    redis_url, redis_process = redis_to_stop
    settings = make_settings(
        database_url, tmp_path, **FAST, redis_url=redis_url, realtime_broker="redis"
    )
    async with AsyncExitStack() as stack:
        a = await start_instance(stack, settings, fresh=True)
        b = await start_instance(stack, settings, fresh=False)
        user = await new_user(a)
        on_a = await stack.enter_async_context(live(a, user=user))
        on_b = await stack.enter_async_context(live(b, user=user))
        await on_a.subscribe("k", "keys.list")
        await on_b.subscribe("k", "keys.list")

        redis_process.kill()
        await redis_process.wait()
        during = await create_key(a, user, "while redis is down")
        # A's own subscriber hears of A's write: local delivery needs no broker.
        await on_a.result("k", lambda data: ids(data) == [during["id"]])

        port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        await stack.enter_async_context(private_redis(port))  # Redis comes back
        for client in (on_a, on_b):
            resync = await client.until(lambda m: m["type"] == "resync")
            assert resync["reason"] == "broker_reconnected"
        # B catches up on the write it could not hear of, and hears A's writes again.
        await on_b.result("k", lambda data: ids(data) == [during["id"]])
        after = await create_key(a, user, "after redis is back")
        await on_b.result("k", lambda data: after["id"] in ids(data))
