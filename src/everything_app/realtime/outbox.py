"""What one connection has yet to send, bounded however slowly its client reads.

A subscription has at most one result waiting: a newer result replaces the unsent one (only
the latest matters; the client sees the skipped versions as a gap). Other messages (errors,
pongs, resync notices) are few and capped; overflowing the cap marks the connection as a
slow consumer. So a connection's memory is bounded by its subscription count, not by how
many changes happen while it does not read.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from everything_app.realtime.protocol import result_frame


@dataclass(frozen=True)
class PendingResult:
    sub_id: str
    version: int
    data: str  # shared with the other subscribers of the same query


class Outbox:
    def __init__(self, control_limit: int = 64) -> None:
        self._items: OrderedDict[tuple[str, object], PendingResult | str] = OrderedDict()
        self._control = 0
        self._control_limit = control_limit
        self._seq = 0
        self._ready = asyncio.Event()
        self.coalesced = 0  # results replaced before they were sent

    def __len__(self) -> int:
        return len(self._items)

    def put_result(self, sub_id: str, version: int, data: str) -> None:
        key = ("r", sub_id)
        if self._items.pop(key, None) is not None:
            self.coalesced += 1
        self._items[key] = PendingResult(sub_id, version, data)
        self._ready.set()

    def drop_result(self, sub_id: str) -> None:
        self._items.pop(("r", sub_id), None)

    def put(self, text: str) -> bool:
        """Queue a non-result message; False when the cap is reached (a slow consumer)."""
        if self._control >= self._control_limit:
            return False
        self._seq += 1
        self._items[("c", self._seq)] = text
        self._control += 1
        self._ready.set()
        return True

    def wake(self) -> None:
        self._ready.set()

    async def get(self, wait_seconds: float) -> str | None:
        """The next message to send, or None when nothing came within `wait_seconds` (or `wake`
        was called: the caller checks why)."""
        if not self._items:
            self._ready.clear()
            try:
                async with asyncio.timeout(wait_seconds):
                    await self._ready.wait()
            except TimeoutError:
                return None
            if not self._items:
                return None
        key, item = self._items.popitem(last=False)
        if key[0] == "c":
            self._control -= 1
        if isinstance(item, PendingResult):
            return result_frame(item.sub_id, item.version, item.data)
        return item
