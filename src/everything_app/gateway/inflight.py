"""A count of completions still running, so shutdown (and tests) can wait for their usage rows."""

from __future__ import annotations

import asyncio


class InFlight:
    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    def enter(self) -> None:
        self._count += 1
        self._idle.clear()

    def exit(self) -> None:
        self._count -= 1
        if self._count == 0:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Return once every completion that started has finished and recorded its usage."""
        await self._idle.wait()
