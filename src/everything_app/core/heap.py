"""How CPython's garbage collector runs while an app serves.

Two changes from the interpreter's defaults, made when the first app in the process starts
serving and undone when the last one stops (tests and embedders run several in one
process, overlapping):

- **The start-up heap is frozen** (`gc.freeze`, after one full collection): modules,
  models and routes are never garbage, and a full collection under load then walks only
  what requests and connections allocated. Measured on the task list at 64 connections: a
  full collection paused the event loop ~110 ms each (every few seconds: the p99), ~10 ms
  once the start-up heap was frozen.
- **The youngest generation is collected after 10,000 net allocations, not 700.** A
  request's objects are nearly all freed by reference counting as it ends; the collector
  counts allocations minus frees, so at 700 the ebb and flow of 64 requests in flight set
  it off every few requests, and every collection moved what was in flight that instant
  into the older generations, whose collections then walk every open connection. Measured
  (one process, PostgreSQL): over a task-list load, 5,458 young, 496 middle and 45 full
  collections took 2.26 s of CPU at 700, and 40, 4 and 1 took 0.40 s at 10,000; each
  young collection pauses ~2.5 ms. With 1,000 live-query sockets, the server's CPU per
  write went 41 → 28 ms and the notification p99 173 → 80 ms (`bench/realtime.py`; side
  by side, 161-185 ms → 59-61 ms). What cycles leave (a closed socket's task and
  exception, ~100 objects) is still collected, by the older generations, as before.

What it does not change: an object that lives (an open socket's ~200) is still walked
twice on its way to the oldest generation, so while a thousand sockets open at once a
middle collection, walking what the last ten young ones kept, pauses ~30-50 ms.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["SERVING_YOUNG_THRESHOLD", "serving", "settle"]

SERVING_YOUNG_THRESHOLD = 10_000

_serving = 0
_outside: tuple[int, int, int] = gc.get_threshold()
# Apps may start and stop on threads of their own (a test client runs its app's lifespan
# on one): the count and the thresholds change together.
_lock = threading.Lock()


def settle() -> None:
    """Collect what start-up left behind, then freeze the rest out of the collector's sight."""
    gc.collect()
    gc.freeze()


@contextmanager
def serving() -> Iterator[None]:
    """The collector as a server wants it, for as long as any app in the process serves."""
    global _serving, _outside
    with _lock:
        if _serving == 0:
            _outside = gc.get_threshold()
            gc.set_threshold(SERVING_YOUNG_THRESHOLD, *_outside[1:])
        _serving += 1
    try:
        settle()  # each app start freezes what it allocated itself
        yield
    finally:
        with _lock:
            _serving -= 1
            if _serving == 0:
                gc.set_threshold(*_outside)
                gc.unfreeze()  # collectable again once nothing serves
