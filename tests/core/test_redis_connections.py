"""Every Redis pool of ours honours a cancellation, whenever in a command's write it lands
(core.redis: redis-py's `asyncio.wait_for` lost the ones that arrived as the write completed,
on Python 3.11, and a cancelled job listener went on reading forever)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.asyncio import Redis

from everything_app.core.jobs.runtime import make_broker
from everything_app.core.redis import (
    WAIT_FOR_LOSES_CANCELLATIONS,
    cancellable_writes,
    connect_redis,
)
from tests.conftest import make_settings

# A command's write takes a few loop iterations (redis-py's wait_for runs it as a task of its
# own); cancelling after each of the first iterations covers every point of it.
ITERATIONS = 12


async def _lost_cancellations(client: Redis) -> list[int]:
    """After how many loop iterations a cancelled write went on as if nothing happened."""
    connection = await client.connection_pool.get_connection()  # type: ignore[no-untyped-call]
    lost = []
    try:
        for iterations in range(ITERATIONS):
            await connection.connect()
            write = asyncio.create_task(
                connection.send_packed_command(connection.pack_command("PING"))
            )
            for _ in range(iterations):
                await asyncio.sleep(0)
            if write.cancel():
                await asyncio.wait([write])
                if not write.cancelled():
                    lost.append(iterations)
            else:
                await write  # it had already finished: nothing to lose
                assert await connection.read_response() == b"PONG"
            await connection.disconnect()
    finally:
        await client.connection_pool.release(connection)
        await client.aclose()
    return lost


async def test_the_apps_client_loses_no_cancellation(redis_url: str) -> None:
    assert await _lost_cancellations(connect_redis(redis_url)) == []


async def test_the_job_queues_connections_lose_no_cancellation(
    redis_url: str, tmp_path: Path
) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", tmp_path)
    broker = make_broker(settings.model_copy(update={"jobs_broker_url": redis_url}))
    pool = broker.connection_pool  # type: ignore[attr-defined]
    assert await _lost_cancellations(Redis(connection_pool=pool)) == []


@pytest.mark.skipif(not WAIT_FOR_LOSES_CANCELLATIONS, reason="asyncio.wait_for is sound here")
async def test_a_stock_pool_loses_cancellations_so_the_check_can_fail(redis_url: str) -> None:
    """The same check against redis-py as it comes: it does lose them on this Python."""
    assert await _lost_cancellations(Redis.from_url(redis_url, socket_timeout=5)) != []


async def test_a_client_with_the_fix_still_answers(redis_url: str) -> None:
    client = Redis.from_url(redis_url, socket_timeout=5)
    cancellable_writes(client.connection_pool)
    try:
        assert await client.ping() is True
        await client.set("ea-test:cancellable", "1", ex=5)
        assert await client.get("ea-test:cancellable") == b"1"
    finally:
        await client.aclose()
