"""What one connection has yet to send, bounded however slowly its client reads.

A subscription has at most one result waiting: a newer result replaces the unsent one (only
the latest matters; the client sees the skipped versions as a gap). A replaced result's
patch is dropped with it: the client never got the version the newer patch starts from, so
the newer one goes out whole. Other messages (errors, pongs, resync notices) are few and
capped; overflowing the cap marks the connection as a slow consumer. So a connection's memory
is bounded by its subscription count, not by how many changes happen while it does not read.

Frames are built by the hub once per delivery and shared by every subscriber they fit.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PendingResult:
    full: str  # the `result` frame
    patch: str | None  # the `patch` frame against the version sent before, when there is one


class Outbox:
    def __init__(self, control_limit: int = 64) -> None:
        self._items: OrderedDict[tuple[str, object], PendingResult | str] = OrderedDict()
        self._control = 0
        self._control_limit = control_limit
        self._seq = 0
        # A bare future rather than an asyncio.Event: one allocation per wait, no waiter list
        # (only the connection's writer ever waits).
        self._waiter: asyncio.Future[None] | None = None
        self.coalesced = 0  # results replaced before they were sent

    def __len__(self) -> int:
        return len(self._items)

    def put_result(self, sub_id: str, full: str, patch: str | None = None) -> None:
        key = ("r", sub_id)
        if self._items.pop(key, None) is not None:
            self.coalesced += 1
            patch = None  # its base was never sent
        self._items[key] = PendingResult(full, patch)
        self.wake()

    def drop_result(self, sub_id: str) -> None:
        self._items.pop(("r", sub_id), None)

    def put(self, text: str) -> bool:
        """Queue a non-result message; False when the cap is reached (a slow consumer)."""
        if self._control >= self._control_limit:
            return False
        self._seq += 1
        self._items[("c", self._seq)] = text
        self._control += 1
        self.wake()
        return True

    def wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self, wait_seconds: float | None = None) -> str | None:
        """The next message to send, or None when nothing came within `wait_seconds` (or `wake`
        was called: the caller checks why). No timer at all when `wait_seconds` is None."""
        if not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                if wait_seconds is None:
                    await self._waiter
                else:
                    async with asyncio.timeout(wait_seconds):
                        await self._waiter
            except TimeoutError:
                return None
            finally:
                self._waiter = None
            if not self._items:
                return None
        key, item = self._items.popitem(last=False)
        if key[0] == "c":
            self._control -= 1
        if isinstance(item, PendingResult):
            return item.patch if item.patch is not None else item.full
        return item
