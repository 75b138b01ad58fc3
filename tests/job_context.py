"""A job context for calling a job handler directly in a test, on a running app's services.

The queue engine is not involved: this tests what a handler does (its writes, its progress,
its result) the way it will run inside a worker. End-to-end runs go through the engine.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import FastAPI

from everything_app.core.db import UnitOfWork, unit_of_work
from everything_app.core.jobs import JobServices
from everything_app.settings import Settings

ServiceT = TypeVar("ServiceT")


@dataclass
class RecordingJobContext:
    app: FastAPI
    user_id: uuid.UUID | None
    services: JobServices = field(default_factory=JobServices)
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)
    attempt: int = 1
    progress_seen: list[tuple[int, str]] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.state.settings
        return settings

    def service(self, kind: type[ServiceT]) -> ServiceT:
        return self.services.get(kind)

    def unit_of_work(self, *, write: bool = False) -> UnitOfWork:
        return unit_of_work(
            self.app.state.sessionmaker,
            write=write,
            user_id=self.user_id,
            admin=self.user_id is None,
            bus=self.app.state.changes,
        )

    async def progress(self, percent: int, message: str = "") -> None:
        self.progress_seen.append((percent, message))
