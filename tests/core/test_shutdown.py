"""A shutdown step that hangs says which step it is and where every task is waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from everything_app.core import shutdown


async def _waiting_for_a_broker_that_never_answers(release: asyncio.Event) -> None:
    await release.wait()


async def test_a_step_still_running_is_reported_with_every_tasks_stack() -> None:
    release = asyncio.Event()
    reports: list[tuple[str, float, str]] = []
    reported_twice = asyncio.Event()

    def report(step: str, seconds: float, stacks: str) -> None:
        reports.append((step, seconds, stacks))
        if len(reports) == 2:
            reported_twice.set()

    stuck = asyncio.create_task(_waiting_for_a_broker_that_never_answers(release))

    async def step() -> None:
        async with shutdown.watched("broker", warn_after=0.01, report=report):
            await stuck

    running = asyncio.create_task(step())
    await reported_twice.wait()  # reported again while it goes on
    release.set()
    await running
    count = len(reports)
    (first_step, first_seconds, stacks), (_, second_seconds, _) = reports[:2]
    assert first_step == "broker"
    assert 0 < first_seconds <= second_seconds
    assert "_waiting_for_a_broker_that_never_answers" in stacks
    # Over: no report comes after the step ends (five times the bound passes; a negative,
    # so time must pass).
    await asyncio.sleep(0.05)
    assert len(reports) == count


async def test_a_failing_step_raises_and_is_no_longer_watched() -> None:
    reports: list[str] = []
    with pytest.raises(RuntimeError, match="broker gone"):
        async with shutdown.watched(
            "failing", warn_after=0.01, report=lambda s, *_: reports.append(s)
        ):
            raise RuntimeError("broker gone")
    # Five times the bound passes with nothing reported: a negative, so time must pass.
    await asyncio.sleep(0.05)
    assert reports == []


@contextmanager
def _captured(patch: pytest.MonkeyPatch) -> Iterator[list[MutableMapping[str, Any]]]:
    """What core.shutdown logs. Its module logger is cached on first use (an app's teardown
    earlier in this process, say) with the processors configured then; every app start
    configures logging again, and capture_logs only reaches the processors configured now.
    A fresh logger, made inside, uses those."""
    with capture_logs() as logs:
        patch.setattr(shutdown, "log", structlog.get_logger(shutdown.__name__))
        yield logs


def test_the_default_report_is_a_warning_naming_the_step(monkeypatch: pytest.MonkeyPatch) -> None:
    with _captured(monkeypatch) as logs:
        shutdown._log_slow("database", 31.0, "stack text")
    assert logs == [
        {
            "event": "shutdown_step_slow",
            "log_level": "warning",
            "step": "database",
            "seconds": 31.0,
            "tasks": "stack text",
        }
    ]


async def _ignoring_its_cancellation(cancelled: asyncio.Event, release: asyncio.Event) -> None:
    """A clean-up that awaits something that never comes (a client's hung disconnect)."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        cancelled.set()
        await release.wait()


async def test_a_task_that_will_not_end_is_abandoned_and_said_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cancelled, release = asyncio.Event(), asyncio.Event()
    stuck = asyncio.create_task(_ignoring_its_cancellation(cancelled, release), name="listener")
    with _captured(monkeypatch) as logs:
        ended = await shutdown.end_task(stuck, finish_within=0.01, cancel_within=0.01)
    assert ended is False
    assert cancelled.is_set()  # it was cancelled before being left
    assert not stuck.done()
    (entry,) = [e for e in logs if e["event"] == "shutdown_task_abandoned"]
    assert entry["task"] == "listener"
    assert "_ignoring_its_cancellation" in entry["tasks"]
    release.set()
    await stuck


async def test_a_task_that_ends_in_time_or_once_cancelled_is_waited_for() -> None:
    async def failing() -> None:
        raise RuntimeError("the listener failed")

    async def forever() -> None:
        await asyncio.Event().wait()

    failed, waiting = asyncio.create_task(failing()), asyncio.create_task(forever())
    assert await shutdown.end_task(failed, finish_within=5, cancel_within=5)
    assert await shutdown.end_task(waiting, finish_within=0.01, cancel_within=5)
    assert waiting.cancelled()
