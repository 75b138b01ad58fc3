"""The brokers behind RealtimeBus: PostgreSQL LISTEN/NOTIFY and Redis pub/sub.

Each keeps one dedicated connection (outside the app's pools: a LISTEN must outlive any
transaction, and a subscribed Redis connection can do nothing else), watches it, and
reconnects with backoff. A reconnection calls `on_reconnect`, which resyncs every local
subscriber, since whatever was published in the gap is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from sqlalchemy import make_url

from everything_app.core.logging import get_logger

log = get_logger(__name__)

FIRST_CONNECT_SECONDS = 5.0
MIN_BACKOFF, MAX_BACKOFF = 0.05, 1.0  # a lost feed is retried at least once a second


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """`postgresql+asyncpg://…` → the plain `postgresql://…` asyncpg itself takes."""
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


class _Reconnecting:
    """The connect / watch / back off loop both brokers share."""

    max_payload_bytes = 7_900

    def __init__(self, check_seconds: float) -> None:
        self.connected = asyncio.Event()
        self.check_seconds = check_seconds
        self._task: asyncio.Task[None] | None = None
        self._on_message: Callable[[str], None] = lambda _text: None
        self._on_reconnect: Callable[[], None] = lambda: None
        self._first = True

    async def start(
        self, on_message: Callable[[str], None], on_reconnect: Callable[[], None]
    ) -> None:
        self._on_message, self._on_reconnect = on_message, on_reconnect
        self._task = asyncio.create_task(self._run_forever())
        try:
            async with asyncio.timeout(FIRST_CONNECT_SECONDS):
                await self.connected.wait()
        except TimeoutError:
            log.warning("realtime_broker_unavailable", broker=type(self).__name__)
            self._first = False  # whenever it connects, subscribers may have missed changes

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run_forever(self) -> None:
        backoff = MIN_BACKOFF
        while True:
            try:
                await self._session()
                backoff = MIN_BACKOFF  # it had connected: retry quickly
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "realtime_broker_disconnected", broker=type(self).__name__, error=repr(exc)
                )
            finally:
                self.connected.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _connected(self) -> None:
        self.connected.set()
        if self._first:
            self._first = False
        else:
            log.info("realtime_broker_reconnected", broker=type(self).__name__)
            self._on_reconnect()

    async def _session(self) -> None:
        raise NotImplementedError


class PostgresBroker(_Reconnecting):
    """LISTEN on one dedicated asyncpg connection; NOTIFY on the same one, so a lost link
    shows up on both sides at once."""

    max_payload_bytes = 7_900  # NOTIFY payloads must stay under 8000 bytes

    def __init__(self, dsn: str, channel: str, *, check_seconds: float = 5.0) -> None:
        super().__init__(check_seconds)
        self.dsn = dsn
        self.channel = channel[:63]  # PostgreSQL truncates identifiers to 63 bytes
        self._conn: Any = None
        self._lock = asyncio.Lock()  # one operation at a time on an asyncpg connection

    @property
    def backend_pid(self) -> int | None:
        """The server process of the LISTEN connection (tests terminate it)."""
        return int(self._conn.get_server_pid()) if self._conn is not None else None

    async def _session(self) -> None:
        lost = asyncio.Event()
        conn = await asyncpg.connect(
            self.dsn,
            timeout=FIRST_CONNECT_SECONDS,
            server_settings={"application_name": "everything-app-realtime"},
        )
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(self.channel, self._notified)
            self._conn = conn
            self._connected()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.check_seconds):
                        await lost.wait()
                if not lost.is_set():  # quiet for a while: prove the link still works
                    async with self._lock:
                        await conn.fetchval("SELECT 1", timeout=self.check_seconds)
            raise ConnectionError("the LISTEN connection was closed")
        finally:
            self._conn = None
            self.connected.clear()
            conn.terminate()

    def _notified(self, _conn: Any, _pid: int, _channel: str, text: str) -> None:
        self._on_message(text)

    async def send(self, messages: list[str]) -> None:
        conn = self._conn
        if conn is None:
            raise ConnectionError("not connected")
        async with self._lock:
            # One round trip for the batch; notifications keep the array's order.
            await conn.execute(
                "SELECT pg_notify($1, m) FROM unnest($2::text[]) WITH ORDINALITY AS t(m, n) "
                "ORDER BY n",
                self.channel,
                messages,
            )


class RedisBroker(_Reconnecting):
    """SUBSCRIBE on a dedicated connection; PUBLISH through the app's shared client."""

    max_payload_bytes = 512_000

    def __init__(
        self,
        url: str,
        channel: str,
        publisher: Redis,
        *,
        client_name: str,
        check_seconds: float = 5.0,
    ) -> None:
        super().__init__(check_seconds)
        self.url = url
        self.channel = channel
        self.publisher = publisher
        self.client_name = client_name

    async def _session(self) -> None:
        # No retries: redis-py would otherwise reconnect and resubscribe behind our back,
        # hiding the gap in which messages were lost.
        client = Redis.from_url(
            self.url,
            client_name=self.client_name,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=FIRST_CONNECT_SECONDS,
            socket_keepalive=True,
            health_check_interval=max(1, int(self.check_seconds)),
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            self._connected()
            while True:
                message = await pubsub.get_message(timeout=self.check_seconds)
                if message is not None and message["type"] == "message":
                    data = message["data"]
                    self._on_message(data.decode() if isinstance(data, bytes) else str(data))
        except RedisError as exc:
            raise ConnectionError(str(exc)) from exc
        finally:
            self.connected.clear()
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            with contextlib.suppress(Exception):
                await client.aclose()

    async def send(self, messages: list[str]) -> None:
        pipe = self.publisher.pipeline(transaction=False)
        for message in messages:
            pipe.publish(self.channel, message)
        await pipe.execute()
