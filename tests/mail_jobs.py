"""Mail jobs in tests, run by the test instead of the job engine, step by step.

For tests of what the routes and handlers do, deterministically (tests/mail/
test_mail_end_to_end.py and the better-auth client test run the real engine instead): the
app runs with `jobs_in_serve=False`, `send_mail`'s enqueue step is replaced by a recorder,
and the test plays the worker. `collect` runs the queued `auth.account_mail` jobs (the
lookup behind a reset or verification request), which queue their mail here; `run` runs
each queued mail job once through the `mail.send` handler with a `RecordingJobContext`,
keeping a failed one queued (its next run is the next attempt).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth.mail_jobs import ACCOUNT_MAIL_JOB, AccountMailArgs, run_account_mail
from everything_app.core.jobs import Job, JobStatus
from everything_app.mail import MAIL_JOB, MailArgs, send_mail_job
from tests.conftest import privileged_db
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

    async def collect(self, app: FastAPI) -> None:
        """Run the account-mail jobs the requests queued (the engine is off)."""
        async with privileged_db(app) as db:
            rows = await db.execute(
                select(Job.id, Job.args)
                .where(Job.kind == ACCOUNT_MAIL_JOB, Job.status == JobStatus.QUEUED)
                .order_by(Job.created_at)
            )
            pending = rows.all()
            if pending:
                await db.execute(
                    update(Job)
                    .where(Job.id.in_([row.id for row in pending]))
                    .values(status=JobStatus.SUCCEEDED)
                )
                await db.commit()
        for row in pending:
            ctx = RecordingJobContext(app, None, job_id=row.id)
            await run_account_mail(ctx, AccountMailArgs.model_validate(row.args))

    async def run(self, app: FastAPI) -> list[Any]:
        """One attempt at every queued mail job (after `collect`); the results of those that
        succeeded."""
        await self.collect(app)
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
