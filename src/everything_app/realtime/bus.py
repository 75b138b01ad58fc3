"""A ChangeBus that also carries committed changes to the app's other instances.

`publish` delivers to this process's listeners at once and synchronously (so local
subscribers hear of a commit first and in commit order), then queues the changes for the
broker. A sender task forwards them, so a slow or absent broker never delays the request
that committed. Messages that come back from the broker are delivered to local listeners
unless this instance sent them (no double delivery).

Whatever is lost is turned into a resync rather than silently missed: when the broker
connection comes back, this instance resyncs its own subscribers (it may have missed other
instances' changes); when this instance failed to send, it asks every other instance to
resync too.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

from everything_app.core.changes import Change, LocalChangeBus
from everything_app.core.logging import get_logger
from everything_app.realtime import payload

log = get_logger(__name__)

ResyncListener = Callable[[str], None]
SEND_BATCH = 100
SEND_RETRY_SECONDS = 0.5


class Broker(Protocol):
    """A connection to the pub/sub service shared by every instance."""

    max_payload_bytes: int
    connected: asyncio.Event

    async def start(
        self, on_message: Callable[[str], None], on_reconnect: Callable[[], None]
    ) -> None:
        """Connect (waiting briefly for the first connection) and keep reconnecting;
        `on_reconnect` is called after every connection but the first."""
        ...

    async def send(self, messages: list[str]) -> None:
        """Publish in order; raises when the broker is unreachable."""
        ...

    async def aclose(self) -> None: ...


class RealtimeBus(LocalChangeBus):
    def __init__(self, broker: Broker | None = None, *, queue_limit: int = 10_000) -> None:
        super().__init__()
        self.broker = broker
        self.instance_id = uuid.uuid4().hex[:16]
        self._seq = itertools.count(1)
        self._outgoing: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_limit)
        self._resync_listeners: list[ResyncListener] = []
        self._lost = False  # something we published may not have reached the others
        self._sender: asyncio.Task[None] | None = None

    @property
    def kind(self) -> str:
        return type(self.broker).__name__ if self.broker else "memory"

    def on_resync(self, listener: ResyncListener) -> None:
        self._resync_listeners.append(listener)

    async def start(self) -> None:
        if self.broker is None:
            return
        await self.broker.start(self._received, lambda: self._resync("broker_reconnected"))
        self._sender = asyncio.create_task(self._send_forever())

    async def aclose(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
        if self.broker is not None:
            await self.broker.aclose()

    async def publish(self, changes: Sequence[Change]) -> None:
        self.deliver(changes)
        if self.broker is None or not changes:
            return
        for message in payload.encode(
            self.instance_id, self._seq, changes, self.broker.max_payload_bytes
        ):
            try:
                self._outgoing.put_nowait(message)
            except asyncio.QueueFull:
                # The broker has been away long enough to fill the queue: drop, and have
                # every other instance resync once it is back.
                self._lost = True
                log.warning("realtime_publish_dropped", reason="queue_full")

    def _received(self, text: str) -> None:
        try:
            envelope = payload.decode(text)
        except ValueError:
            log.warning("realtime_bad_broker_message", size=len(text))
            return
        if envelope.origin == self.instance_id:
            return  # delivered locally when published
        if envelope.resync:
            self._resync("peer_reconnected")
        else:
            self.deliver(envelope.changes)

    def _resync(self, reason: str) -> None:
        for listener in list(self._resync_listeners):
            try:
                listener(reason)
            except Exception:
                log.exception("realtime_resync_listener_failed")

    async def _send_forever(self) -> None:
        assert self.broker is not None
        while True:
            batch: list[str] = []
            if not self._lost or not self._outgoing.empty():
                batch.append(await self._outgoing.get())
                while len(batch) < SEND_BATCH and not self._outgoing.empty():
                    batch.append(self._outgoing.get_nowait())
            await self.broker.connected.wait()
            if self._lost:
                batch.insert(0, payload.encode_resync(self.instance_id, next(self._seq)))
                self._lost = False
            try:
                await self.broker.send(batch)
            except Exception as exc:
                self._lost = True
                log.warning("realtime_publish_failed", error=type(exc).__name__, size=len(batch))
                # Back off until the broker's watchdog has noticed the connection is gone.
                await asyncio.sleep(SEND_RETRY_SECONDS)
