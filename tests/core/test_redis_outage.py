"""Redis stopped while the service runs: requests are still served, rate limits still hold
(each instance on its own counters), and nothing waits on the dead connection.

A private redis-server on a free port plays the shared Redis, so stopping it disturbs no
other test."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    BASE_URL,
    IN_CI,
    PASSWORD,
    make_settings,
    sign_up,
    start_app,
    unique_email,
)

REDIS_SERVER = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def private_redis() -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    if REDIS_SERVER is None:
        if IN_CI:
            pytest.fail("redis-server is needed (CI=true)")
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(200):  # until it accepts connections (the process is starting, not a race)
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        break
    yield url, process
    if process.returncode is None:
        process.kill()
        await process.wait()


async def _fail_sign_in(client: httpx.AsyncClient, email: str) -> int:
    response = await client.post(
        "/api/auth/sign-in/email", json={"email": email, "password": "wrong password"}
    )
    return response.status_code


async def test_service_survives_redis_stopping(
    database_url: str, tmp_path: Path, private_redis: tuple[str, asyncio.subprocess.Process]
) -> None:
    redis_url, redis_process = private_redis
    async with AsyncExitStack() as stack:
        settings = make_settings(
            database_url, tmp_path, redis_url=redis_url, realtime_broker="redis"
        )
        app = await start_app(stack, settings)
        client = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url=BASE_URL,
                headers={"Origin": BASE_URL},
            )
        )
        email = unique_email()
        await sign_up(client, email=email)
        assert app.state.limiter.backend == "redis"
        assert await _fail_sign_in(client, email) == 401  # counted in Redis

        redis_process.kill()  # Redis goes away for good
        await redis_process.wait()

        assert (await client.get("/api/auth/get-session")).json()["user"]["email"] == email
        assert (
            await client.post("/api/keys", json={"name": "while redis is down"})
        ).status_code == 201
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
