"""Admission control for answers: how many this process generates at once, and who waits.

Past what one process can serve, every extra concurrent answer only slows all the others down
(they share one event loop and one core), so throughput falls and the tail grows without
bound. Instead a fixed number of answers run at once (`CHAT_MAX_GENERATIONS`); a request
beyond that waits its turn in a short FIFO queue (`CHAT_QUEUE_SIZE` places, at most
`CHAT_QUEUE_WAIT_SECONDS` each); past that it gets 503 `chat_busy` with `Retry-After` at once,
so an overloaded server answers quickly rather than hanging.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque

from everything_app.core.errors import ServiceUnavailable
from everything_app.core.metrics import count_rate_limited


class Slot:
    """The right to generate one answer; released exactly once, by whoever holds it last."""

    def __init__(self, admission: Admission) -> None:
        self._admission: Admission | None = admission
        self._since = time.monotonic()

    def release(self) -> None:
        if self._admission is not None:
            admission, self._admission = self._admission, None
            admission.release(time.monotonic() - self._since)


class Admission:
    def __init__(self, limit: int, queue_size: int, queue_wait: float) -> None:
        self.limit, self.queue_size, self.queue_wait = limit, queue_size, queue_wait
        self._running = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._quiet = asyncio.Event()  # set while nobody waits for a slot
        self._quiet.set()
        self._joined = asyncio.Event()  # set (and replaced) whenever someone joins the line
        self._held = 1.0  # moving average of how long an answer holds its slot, seconds

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def try_enter(self) -> Slot | None:
        """A slot now, if one is free and nobody is waiting for it; None otherwise."""
        if self._running < self.limit and not self._waiters:
            self._running += 1
            return Slot(self)
        return None

    async def enter(self) -> Slot:
        """A slot, after waiting in line for one if need be; `busy()` if the line is full or
        no slot came within the wait."""
        slot = self.try_enter()
        if slot is not None:
            return slot
        if len(self._waiters) >= self.queue_size:
            raise self.busy()
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        self._quiet.clear()
        self._joined.set()
        self._joined = asyncio.Event()
        try:
            async with asyncio.timeout(self.queue_wait):
                await turn
        except BaseException as exc:
            if turn.done() and not turn.cancelled():
                self.release(None)  # handed a slot as we gave up: pass it on
            else:
                turn.cancel()
                if turn in self._waiters:  # release() may have dropped it already
                    self._waiters.remove(turn)
                self._check_quiet()
            if isinstance(exc, TimeoutError):
                raise self.busy() from None
            raise
        return Slot(self)  # the slot was handed over by release(): already counted

    def release(self, held: float | None) -> None:
        if held is not None:
            self._held += (held - self._held) / 8
        try:
            while self._waiters:
                turn = self._waiters.popleft()
                if not turn.done():
                    turn.set_result(None)  # the slot goes straight to the next in line
                    return
            self._running -= 1
        finally:
            self._check_quiet()

    async def until_waiting(self, count: int) -> None:
        """Until at least `count` requests wait in line (what a test or a probe waits for)."""
        while len(self._waiters) < count:
            await self._joined.wait()

    async def quiet(self) -> None:
        """Until nobody waits for a slot: low-priority work (model-made titles) goes then."""
        await self._quiet.wait()

    def _check_quiet(self) -> None:
        if not self._waiters:
            self._quiet.set()

    def busy(self) -> ServiceUnavailable:
        count_rate_limited("chat-busy")
        # Roughly when a place in line frees up: answers end about every held / limit seconds.
        wait = (len(self._waiters) + 1) * self._held / max(1, self.limit)
        return ServiceUnavailable(
            "The server is answering as many chats as it can; please retry shortly.",
            code="chat_busy",
            retry_after=min(30, max(1, math.ceil(wait))),
        )
