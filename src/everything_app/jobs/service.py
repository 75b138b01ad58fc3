"""A user's jobs: read and cancel (the engine and its transitions are core.jobs)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from everything_app.core.db import utcnow
from everything_app.core.errors import Conflict, NotFound
from everything_app.core.jobs import Job, JobContext, JobStatus
from everything_app.core.jobs import store as jobs_store
from everything_app.core.pagination import Keyset, keyset_page

NEWEST_FIRST = Keyset(Job.created_at, Job.id)


def _visible(user_id: uuid.UUID, is_admin: bool) -> ColumnElement[bool]:
    """The user's own jobs; administrators also see the app's own (no owner)."""
    if is_admin:
        return or_(Job.user_id == user_id, Job.user_id.is_(None))
    return Job.user_id == user_id


async def list_jobs(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    is_admin: bool = False,
    cursor: str | None,
    limit: int,
    status: JobStatus | None = None,
    kind: str | None = None,
) -> tuple[list[Job], str | None]:
    query = select(Job).where(_visible(user_id, is_admin))
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return await keyset_page(db, query, NEWEST_FIRST, cursor=cursor, limit=limit)


async def get_job(
    db: AsyncSession, user_id: uuid.UUID, job_id: uuid.UUID, *, is_admin: bool = False
) -> Job:
    """One of the user's jobs; another user's is indistinguishable from a missing one."""
    job = (
        await db.execute(select(Job).where(Job.id == job_id, _visible(user_id, is_admin)))
    ).scalar_one_or_none()
    if job is None:
        raise NotFound("Job not found.", code="job_not_found")
    return job


async def cancel_job(
    db: AsyncSession, user_id: uuid.UUID, job_id: uuid.UUID, *, is_admin: bool = False
) -> Job:
    job = await get_job(db, user_id, job_id, is_admin=is_admin)
    if not await jobs_store.cancel(db, job):
        raise Conflict(f"The job has already {job.status}.", code="job_finished")
    return job


# --- the retention job --------------------------------------------------------------------


class PruneArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


async def prune(context: JobContext, args: PruneArgs) -> dict[str, int]:
    """Delete finished jobs older than JOBS_KEEP_DAYS."""
    before = utcnow() - timedelta(days=context.settings.jobs_keep_days)
    async with context.unit_of_work(write=True) as db:
        deleted = await jobs_store.prune(db, before=before)
    return {"deleted": deleted}
