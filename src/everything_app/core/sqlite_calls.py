"""SQLite connections whose short reads run on the event loop's own thread.

aiosqlite runs every call on a connection in a thread of its own, handing each one over
through a queue and back through the loop's wake-up pipe: five hand-overs for one read
(cursor, execute, fetch, close, the pool's rollback), each a thread switch and a fight for
the GIL. Under load that hand-over, not SQLite, was the cost of the embedded default's
task list (~2 ms of the request), and with fifteen pooled threads queueing for the GIL it
gave the list a p99 in seconds.

A keyset page read through an index takes SQLite well under a millisecond, less than the
hand-over itself, and a read never waits on a lock in WAL mode (writers do not block
readers). So a unit of work's single read (`core.db.read_once`) runs its calls right here,
on the loop's thread, inside `calls_on_loop()`; everything else — writes, which may wait
`busy_timeout` for the write lock, commits, long reads — still goes to the connection's
thread, so the loop never waits on a lock. The connection is used by one caller at a time
either way (calls are awaited in turn), so the two threads never touch it at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy import make_url

# Set while the current task runs a short read (SQLAlchemy's greenlets share the task's
# context, so the driver's calls see it).
_ON_LOOP: ContextVar[bool] = ContextVar("sqlite_calls_on_loop", default=False)


class LoopCallsConnection(aiosqlite.Connection):
    """aiosqlite's connection, running its calls inline while `calls_on_loop()` is in force."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if _ON_LOOP.get() and self._running and self._connection is not None:
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]


@contextmanager
def calls_on_loop() -> Iterator[None]:
    """Within: this task's SQLite calls run on the loop's thread (short reads only)."""
    token = _ON_LOOP.set(True)
    try:
        yield
    finally:
        _ON_LOOP.reset(token)


def connector(url: str, *, timeout: float) -> Callable[[], LoopCallsConnection]:
    """`create_async_engine(async_creator=...)` for `url`: the path and options SQLAlchemy's
    own SQLite dialect reads from the URL, usable from the loop's thread as well as the
    connection's (never from both at once, see above)."""
    parsed = make_url(url)
    args, options = parsed.get_dialect()().create_connect_args(parsed)
    options = {**options, "timeout": timeout, "check_same_thread": False}

    def connect() -> LoopCallsConnection:
        connection = LoopCallsConnection(partial(sqlite3.connect, *args, **options), 64)
        connection._thread.daemon = True  # as SQLAlchemy does: never holds the process up
        return connection

    return connect
