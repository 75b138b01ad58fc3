"""The jobs' live queries: `GET /api/jobs` and `GET /api/jobs/{id}`, live (progress too)."""

from __future__ import annotations

import uuid

from pydantic import ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core.changes import Change
from everything_app.core.jobs import JobStatus
from everything_app.core.pagination import Page
from everything_app.core.validation import Input
from everything_app.jobs import service
from everything_app.jobs.schemas import JobOut
from everything_app.realtime import PageArgs, QueryRegistry, Viewer


class JobsArgs(PageArgs):
    status: JobStatus | None = None
    kind: str | None = Field(default=None, max_length=100)


class JobArgs(Input):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID


async def jobs_list(db: AsyncSession, viewer: Viewer, args: JobsArgs) -> Page[JobOut]:
    """`GET /api/jobs`, live: the caller's jobs, newest first, with their progress."""
    jobs, cursor = await service.list_jobs(
        db,
        viewer.user_id,
        is_admin=viewer.is_admin,
        cursor=args.cursor,
        limit=args.limit,
        status=args.status,
        kind=args.kind,
    )
    return Page[JobOut](
        data=[JobOut.model_validate(j, from_attributes=True) for j in jobs], next_cursor=cursor
    )


async def jobs_get(db: AsyncSession, viewer: Viewer, args: JobArgs) -> JobOut:
    """`GET /api/jobs/{id}`, live: one job's status, progress, result or error."""
    job = await service.get_job(db, viewer.user_id, args.id, is_admin=viewer.is_admin)
    return JobOut.model_validate(job, from_attributes=True)


def mine(change: Change, viewer: Viewer, args: object) -> bool:
    """The viewer's own jobs; an administrator's also the app's own."""
    return change.owner_id == viewer.user_id or (change.owner_id is None and viewer.is_admin)


def this_job(change: Change, viewer: Viewer, args: JobArgs) -> bool:
    return change.row_id == args.id and mine(change, viewer, args)


def register_queries(queries: QueryRegistry) -> None:
    queries.register("jobs.list", jobs_list, args=JobsArgs, tables={"jobs"}, affects=mine)
    queries.register("jobs.get", jobs_get, args=JobArgs, tables={"jobs"}, affects=this_job)
