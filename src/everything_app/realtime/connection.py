"""One live connection (a WebSocket or an SSE stream) as the hub sees it."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from everything_app.realtime.identity import Identity
from everything_app.realtime.outbox import Outbox
from everything_app.realtime.protocol import CLOSE_SLOW_CONSUMER, error_frame

if TYPE_CHECKING:
    from everything_app.realtime.hub import Group

_ids = itertools.count(1)

# Subscribing runs a query, so a client may not churn subscriptions without limit: a token
# bucket of SUBSCRIBE_BURST operations, refilled at SUBSCRIBE_RATE per second.
SUBSCRIBE_BURST = 100.0
SUBSCRIBE_RATE = 20.0


@dataclass(eq=False)
class Subscription:
    conn: Connection
    id: str
    group: Group
    version: int = 0  # of the last result queued for this subscription; 0: none yet
    patch: bool = False  # the client takes `patch` messages


@dataclass(eq=False)
class Connection:
    identity: Identity
    transport: str  # "websocket" or "sse", for logs and stats
    outbox: Outbox = field(default_factory=Outbox)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    close_reason: tuple[int, str] | None = None
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    id: int = field(default_factory=lambda: next(_ids))
    # For the hub's watchdog (WebSocket only; loop time): when the send in progress began
    # (0: none), and when the socket last sent anything (heartbeats go to idle sockets).
    sending_since: float = 0.0
    last_sent: float = 0.0
    writer: asyncio.Task[None] | None = None  # what `stall` interrupts
    _tokens: float = SUBSCRIBE_BURST
    _tokens_at: float = field(default_factory=time.monotonic)

    def close(self, code: int, reason: str) -> None:
        """Ask the transport to close; the first reason given wins."""
        if self.close_reason is None:
            self.close_reason = (code, reason)
        self.closing.set()
        self.outbox.wake()

    def stall(self) -> None:
        """A send has been blocked for the send timeout: the client stopped reading. Close as a
        slow consumer and interrupt the blocked send (the writer then closes the socket)."""
        self.close(CLOSE_SLOW_CONSUMER, "slow_consumer")
        if self.writer is not None and not self.writer.done():
            self.writer.cancel()

    def send(self, text: str) -> None:
        if not self.outbox.put(text):
            self.close(CLOSE_SLOW_CONSUMER, "slow_consumer")

    def send_error(
        self,
        sub_id: str | None,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.send(error_frame(sub_id, code, message, details))

    def take_token(self) -> bool:
        now = time.monotonic()
        self._tokens = min(SUBSCRIBE_BURST, self._tokens + (now - self._tokens_at) * SUBSCRIBE_RATE)
        self._tokens_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
