"""What a job is to the feature that adds it: a kind, its arguments, its handler.

A feature adds job kinds (and schedules) in its `register` step:

    def register(registry: Registry) -> None:
        registry[JobKinds].add(JobKind("planner.import", ImportArgs, run_import, action=True))
        registry[JobKinds].schedule(Schedule("backup.daily", "backup.run", cron=backup_cron))

A kind with `action=True` is a server action: a signed-in user starts it with
`POST /api/actions/{name}` and a body its `args` model validates; the others are started by
the app (`core.jobs.enqueue`) or by a schedule. Delivery is at least once: a handler must be
idempotent (a worker killed mid-job means the job runs again, from the start, elsewhere).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from everything_app.core.db import UnitOfWork
from everything_app.settings import Settings

ArgsT = TypeVar("ArgsT", bound=BaseModel)
ServiceT = TypeVar("ServiceT")


class JobContext(Protocol):
    """What a running job may use. Handlers take it as their first argument."""

    @property
    def job_id(self) -> uuid.UUID: ...

    @property
    def user_id(self) -> uuid.UUID | None:
        """Whose job this is; None for the app's own jobs (backups, housekeeping)."""
        ...

    @property
    def attempt(self) -> int:
        """1 on the first run, 2 on the first retry (or redelivery after a crash), …"""
        ...

    @property
    def settings(self) -> Settings: ...

    def service(self, kind: type[ServiceT]) -> ServiceT:
        """An app service provided at start (`JobServices.provide`), e.g. the AI providers."""
        ...

    def unit_of_work(self, *, write: bool = False) -> UnitOfWork:
        """The app's unit of work acting for the job's user (row-level security on
        PostgreSQL), or as admin for the app's own jobs; it publishes changes on commit."""
        ...

    async def progress(self, percent: int, message: str = "") -> None:
        """Store progress (0 to 100) on the job row and tell its live queries, in order."""
        ...


class JobFailed(Exception):
    """A failure retrying cannot fix (bad input, a missing record): the job fails at once
    with this message as its error, without further attempts."""


Handler = Callable[[JobContext, ArgsT], Awaitable[Any]]


@dataclass(frozen=True)
class JobKind(Generic[ArgsT]):
    # Dotted, feature first: "planner.import". The action's URL segment when `action`.
    name: str
    args: type[ArgsT]
    # Returns the job's result (JSON-serialisable, stored on the row) or None.
    run: Handler[ArgsT]
    action: bool = False
    max_attempts: int = 5
    summary: str = ""  # one line, for the API docs and `GET /api/actions`
    # The arguments hold a secret (a mailed link's token): emptied on the row once the job
    # is over, so the database keeps it no longer than it is needed.
    secret_args: bool = False


@dataclass(frozen=True)
class Schedule:
    """A kind run on a cron schedule: once per period however many instances run."""

    name: str  # unique: the period's job is deduplicated on (name, period start)
    kind: str
    # The cron expression, read from the settings at start; None turns the schedule off.
    cron: Callable[[Settings], str | None]
    args: Mapping[str, Any] = field(default_factory=dict)


class JobKinds:
    """One app's job kinds and schedules (a registry kind, see core.features)."""

    def __init__(self) -> None:
        self._kinds: dict[str, JobKind[Any]] = {}
        self._schedules: dict[str, Schedule] = {}

    def add(self, kind: JobKind[Any]) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"job kind {kind.name!r} is added twice")
        self._kinds[kind.name] = kind

    def schedule(self, schedule: Schedule) -> None:
        if schedule.name in self._schedules:
            raise ValueError(f"schedule {schedule.name!r} is added twice")
        self._schedules[schedule.name] = schedule

    def get(self, name: str) -> JobKind[Any] | None:
        return self._kinds.get(name)

    def actions(self) -> list[JobKind[Any]]:
        return [kind for kind in self._kinds.values() if kind.action]

    def schedules(self) -> list[Schedule]:
        return list(self._schedules.values())


class JobServices:
    """The app's services jobs may use, by type (the app provides them at start)."""

    def __init__(self) -> None:
        self._services: dict[type[Any], object] = {}

    def provide(self, kind: type[ServiceT], service: ServiceT) -> None:
        self._services[kind] = service

    def get(self, kind: type[ServiceT]) -> ServiceT:
        try:
            return self._services[kind]  # type: ignore[return-value]
        except KeyError:
            raise LookupError(f"no {kind.__name__} was provided to jobs") from None
