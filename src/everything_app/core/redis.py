"""The app's one Redis client (optional), and the fix every Redis pool of ours gets.

`cancellable_writes`: redis-py bounds each command's write with `asyncio.wait_for`, which on
Python 3.11 swallows a cancellation that arrives in the loop iteration in which the write
completes (CPython gh-86296, fixed in 3.12 by building `wait_for` on `asyncio.timeout`): the
cancelled caller goes on as if nothing happened. The job queue's stream listener, cancelled
at shutdown while sending its once-a-second `XREADGROUP`, then read forever and held the
shutdown up (core.shutdown's `shutdown_task_abandoned`). Connections of ours bound the write
with `asyncio.timeout` instead, which counts cancellations and never loses one.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

WAIT_FOR_LOSES_CANCELLATIONS = sys.version_info < (3, 12)


def connect_redis(url: str) -> Redis:
    # Short timeouts: a Redis outage must degrade requests (see core.ratelimit), not hang them.
    client = Redis.from_url(
        url, socket_connect_timeout=1, socket_timeout=1, health_check_interval=30
    )
    cancellable_writes(client.connection_pool)
    return client


def cancellable_writes(pool: ConnectionPool) -> None:
    """Make the connections `pool` opens from now on honour every cancellation (see above).

    The pool keeps the connection class its URL chose (TCP, TLS or a Unix socket); only the
    write is replaced. Nothing changes where `asyncio.wait_for` is already sound.
    """
    if WAIT_FOR_LOSES_CANCELLATIONS:
        pool.connection_class = _with_cancellable_write(pool.connection_class)


class _CancellableWrite(AbstractConnection):
    """redis-py's `send_packed_command`, its write bounded by `asyncio.timeout`; the checks
    before it and the errors after it are redis-py's own."""

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        timeout = self.socket_timeout
        if not timeout:  # redis-py writes without wait_for then
            await super().send_packed_command(command, check_health)
            return
        if not self.is_connected:
            await self.connect_check_health(check_health=False)
        if check_health:
            await self.check_health()  # type: ignore[no-untyped-call]
        if isinstance(command, str):
            command = command.encode()
        chunks = [command] if isinstance(command, bytes) else command
        try:
            async with asyncio.timeout(timeout):
                await self._send_packed_command(chunks)
        except TimeoutError:
            await self.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as exc:
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Error while writing to socket. {exc}.") from exc
        except BaseException:
            # Half a command may have been written: the connection cannot be reused.
            await self.disconnect(nowait=True)
            raise


_CLASSES: dict[type[AbstractConnection], type[AbstractConnection]] = {}


def _with_cancellable_write(base: type[AbstractConnection]) -> type[AbstractConnection]:
    if base not in _CLASSES:
        _CLASSES[base] = type(f"Cancellable{base.__name__}", (_CancellableWrite, base), {})
    return _CLASSES[base]
