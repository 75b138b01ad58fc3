"""Job kinds of the tests' own, added with `create_app(settings, features=...)`.

Handlers that wait do so on files in a directory the test names (`gate`), so that a job
running in another process (a real worker) can be held and released the same way. Their
effect is a planner task titled `job:<id>` written once per job whatever the attempts
(idempotent: at-least-once delivery runs a job again after a crash).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from everything_app.core.features import Feature, Registry
from everything_app.core.jobs import JobContext, JobFailed, JobKind, JobKinds, Schedule
from everything_app.models import Task
from everything_app.settings import Settings


class EchoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=100)
    steps: int = Field(default=0, ge=0, le=100)
    gate: str | None = None  # waits for `<gate>/<id>.go` (or `go`) before its steps


async def echo(context: JobContext, args: EchoArgs) -> dict[str, Any]:
    if args.gate is not None:
        await _wait_for_gate(Path(args.gate), context.job_id)
    for step in range(1, args.steps + 1):
        await context.progress(step * 100 // (args.steps + 1), f"step {step}")
    return {"echo": args.text, "attempt": context.attempt}


class GateArgs(BaseModel):
    gate: str  # a directory: the job writes `<id>.started`, waits for `<id>.go` or `go`
    effect: bool = True


def _note(path: Path, line: str) -> None:
    with path.open("a") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


async def held(context: JobContext, args: GateArgs) -> dict[str, Any]:
    gate = Path(args.gate)
    if args.effect:
        await write_effect(context)  # before the wait: a worker killed there has written it
    _note(gate / f"{context.job_id}.started", f"{os.getpid()} {context.attempt}")
    await _wait_for_gate(gate, context.job_id)
    _note(gate / f"{context.job_id}.done", f"{os.getpid()} {context.attempt}")
    return {"pid": os.getpid()}


async def _wait_for_gate(gate: Path, job_id: uuid.UUID) -> None:
    while not ((gate / "go").exists() or (gate / f"{job_id}.go").exists()):  # noqa: ASYNC110
        await asyncio.sleep(0.02)  # the handler's own wait (a job doing work), not the test's


async def write_effect(context: JobContext) -> None:
    """Idempotent: one task titled by the job's id, however often the job runs."""
    title = f"job:{context.job_id}"
    async with context.unit_of_work(write=True) as db:
        found = await db.execute(select(Task.id).where(Task.title == title))
        if found.scalar_one_or_none() is None:
            assert context.user_id is not None
            db.add(Task(user_id=context.user_id, title=title))
            await db.flush()


class FailArgs(BaseModel):
    permanent: bool = False
    gate: str | None = None  # notes each attempt's time in `<gate>/<id>.attempts`


async def fail(context: JobContext, args: FailArgs) -> None:
    if args.gate:
        loop = asyncio.get_running_loop()
        _note(Path(args.gate) / f"{context.job_id}.attempts", f"{loop.time()}")
    if args.permanent:
        raise JobFailed("this cannot work")
    raise RuntimeError(f"boom {context.attempt}")


class TickArgs(BaseModel):
    gate: str


async def tick(context: JobContext, args: TickArgs) -> None:
    """A scheduled job: notes its job id and pid once per run."""
    _note(Path(args.gate) / "ticks", f"{context.job_id} {os.getpid()}")


def extra_feature(*, cron_gate: str | None = None, max_attempts: int = 3) -> Feature:
    def register(registry: Registry) -> None:
        kinds = registry[JobKinds]
        kinds.add(JobKind("test.echo", EchoArgs, echo, action=True, summary="Echo the text"))
        kinds.add(JobKind("test.held", GateArgs, held, action=True, summary="Wait for a gate"))
        kinds.add(JobKind("test.fail", FailArgs, fail, action=True, max_attempts=max_attempts))
        kinds.add(JobKind("test.tick", TickArgs, tick))
        if cron_gate is not None:
            kinds.schedule(
                Schedule(
                    "test.every_second", "test.tick", cron=_every_second, args={"gate": cron_gate}
                )
            )

    return Feature(f"test_jobs_{uuid.uuid4().hex[:6]}", register=register)


def _every_second(settings: Settings) -> str:
    return "* * * * * *"
