"""Mail jobs in tests: what `send_mail` queued, run through the `mail.send` handler.

Until the job engine is merged (issue 14), `send_mail`'s enqueue step is replaced by a
recorder, and `run` plays the worker: it runs each queued job once through the handler with
a `RecordingJobContext`, keeping a failed one queued (its next run is the next attempt).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.mail import MAIL_JOB, MailArgs, send_mail_job
from tests.job_context import RecordingJobContext


@dataclass
class QueuedJob:
    job_id: uuid.UUID
    args: MailArgs
    user_id: uuid.UUID | None
    attempt: int = 1


@dataclass
class QueuedMail:
    jobs: list[QueuedJob] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    async def enqueue(
        self,
        db: AsyncSession,
        kind: str,
        args: BaseModel,
        *,
        user_id: uuid.UUID | None,
        key: str | None,
    ) -> uuid.UUID:
        assert kind == MAIL_JOB
        assert isinstance(args, MailArgs)
        # Like the engine: the job exists only if the caller's work commits.
        job = QueuedJob(uuid.uuid4(), args, user_id)
        pending: list[QueuedJob] = db.info.setdefault("test_mail_jobs", [])
        pending.append(job)
        _after_commit(db, self)
        return job.job_id

    async def run(self, app: FastAPI) -> list[Any]:
        """One attempt at every queued job; the results of those that succeeded."""
        results, failed = [], []
        for job in self.jobs:
            ctx = RecordingJobContext(app, job.user_id, job_id=job.job_id, attempt=job.attempt)
            try:
                results.append(await send_mail_job(ctx, job.args))
            except Exception as exc:
                self.errors.append(exc)
                job.attempt += 1
                failed.append(job)
        self.jobs = failed
        return results

    def to(self, address: str) -> list[MailArgs]:
        return [job.args for job in self.jobs if job.args.to == address]


def _after_commit(db: AsyncSession, queue: QueuedMail) -> None:
    from sqlalchemy import event

    sync = db.sync_session
    if sync.info.get("test_mail_listening"):
        return
    sync.info["test_mail_listening"] = True

    def committed(session: Any) -> None:
        queue.jobs.extend(session.info.pop("test_mail_jobs", []))

    def rolled_back(session: Any) -> None:
        session.info.pop("test_mail_jobs", None)

    event.listen(sync, "after_commit", committed)
    event.listen(sync, "after_rollback", rolled_back)


@pytest.fixture
def queued_mail(monkeypatch: pytest.MonkeyPatch) -> QueuedMail:
    from everything_app.mail import service

    queue = QueuedMail()
    monkeypatch.setattr(service, "_enqueue", queue.enqueue)
    return queue
