"""Shutdown steps that say where they are stuck.

A step of the app's shutdown that waits on something that never comes (a broker that does
not answer, a connection that is never released, a task that ignores its cancellation)
holds the process until something kills it, and nothing in the log says which step it
was. Each step runs under `watched`: while it is still running `warn_after` seconds in,
and every `warn_after` seconds after that, a warning names the step and gives the stack of
every task still running. The step itself is not cut short: what it waits for may be the
last usage row or job hand-back, and an orchestrator's own grace period ends it anyway.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from everything_app.core.logging import get_logger

__all__ = ["WARN_AFTER_SECONDS", "end_task", "task_stacks", "watched"]

log = get_logger(__name__)

# Longer than any step's own bound (the jobs' grace, the gateway's answers still ending):
# a step past it is waiting on something that will not come by itself.
WARN_AFTER_SECONDS = 30.0

Report = Callable[[str, float, str], None]


def task_stacks() -> str:
    """The stack of every task of the running loop but the caller's, as text."""
    out = io.StringIO()
    current = asyncio.current_task()
    for task in asyncio.all_tasks():
        if task is not current:
            task.print_stack(file=out)
    return out.getvalue()


def _log_slow(step: str, seconds: float, stacks: str) -> None:
    log.warning("shutdown_step_slow", step=step, seconds=round(seconds, 1), tasks=stacks)


@asynccontextmanager
async def watched(
    step: str, *, warn_after: float = WARN_AFTER_SECONDS, report: Report = _log_slow
) -> AsyncIterator[None]:
    """Run the block as the shutdown step `step`, reported while it outlasts `warn_after`."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    handle: asyncio.TimerHandle  # the next report's timer

    def overdue() -> None:
        nonlocal handle
        report(step, loop.time() - started, task_stacks())
        handle = loop.call_later(warn_after, overdue)

    handle = loop.call_later(warn_after, overdue)
    try:
        yield
    finally:
        handle.cancel()


async def end_task(
    task: asyncio.Task[object], *, finish_within: float, cancel_within: float
) -> bool:
    """Give `task` `finish_within` seconds to end by itself, then cancel it and give it
    `cancel_within` more; whether it ended. Unlike `asyncio.wait_for`, which waits for a
    cancelled task for as long as it takes, this never waits longer: a task that does not
    end once cancelled (a task whose library lost the cancellation: the jobs' Redis stream
    listener did, until core.redis fixed its connections) is left behind, and said so,
    rather than holding the shutdown forever.
    Whatever the task ended with is taken, so nothing is reported as never retrieved."""
    done, _ = await asyncio.wait({task}, timeout=finish_within)
    if not done:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=cancel_within)
    if not done:
        log.warning(
            "shutdown_task_abandoned",
            task=task.get_name(),
            seconds=finish_within + cancel_within,
            tasks=task_stacks(),
        )
        return False
    if not task.cancelled():
        task.exception()
    return True
