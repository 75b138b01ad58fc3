"""`/api/jobs` (a user's jobs) and `/api/actions` (server actions)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from everything_app.auth import CurrentUser, require_user
from everything_app.core.db import SessionDep
from everything_app.core.deps import LimiterDep, SettingsDep
from everything_app.core.errors import NotFound
from everything_app.core.jobs import Job, JobKind, JobKinds, JobStatus, enqueue
from everything_app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from everything_app.core.params import StrictQuery
from everything_app.jobs import service
from everything_app.jobs.schemas import ActionList, ActionOut, JobOut

router = APIRouter(
    prefix="/api/jobs", tags=["jobs"], dependencies=[Depends(require_user), StrictQuery]
)
actions_router = APIRouter(
    prefix="/api/actions", tags=["jobs"], dependencies=[Depends(require_user), StrictQuery]
)


def _out(job: Job) -> JobOut:
    return JobOut.model_validate(job, from_attributes=True)


async def _kinds(request: Request) -> JobKinds:
    kinds: JobKinds = request.app.state.registry[JobKinds]
    return kinds


KindsDep = Annotated[JobKinds, Depends(_kinds)]


@router.get("", response_model=Page[JobOut])
async def list_jobs(
    user: CurrentUser,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
    status: JobStatus | None = None,
    kind: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[JobOut]:
    """Your jobs, newest first (administrators also see the app's own), optionally only
    those of one status or kind."""
    jobs, next_cursor = await service.list_jobs(
        db,
        user.id,
        is_admin=user.is_admin,
        cursor=cursor,
        limit=limit,
        status=status,
        kind=kind,
    )
    return Page[JobOut](data=[_out(j) for j in jobs], next_cursor=next_cursor)


@router.get("/{job_id}", response_model=JobOut)
async def get_job(job_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> JobOut:
    """One job: its status, progress, and once finished its result or error."""
    return _out(await service.get_job(db, user.id, job_id, is_admin=user.is_admin))


@router.post("/{job_id}/cancel", response_model=JobOut)
async def cancel_job(job_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> JobOut:
    """Cancel a queued job, or stop a running one at its next step. 409 `job_finished`
    when it has already ended."""
    return _out(await service.cancel_job(db, user.id, job_id, is_admin=user.is_admin))


def _action_out(kind: JobKind[Any]) -> ActionOut:
    return ActionOut(
        name=kind.name, summary=kind.summary, input_schema=kind.args.model_json_schema()
    )


@actions_router.get("", response_model=ActionList)
async def list_actions(kinds: KindsDep) -> ActionList:
    """The server actions there are, with the JSON Schema of each one's body."""
    return ActionList(data=[_action_out(k) for k in kinds.actions()])


@actions_router.post(
    "/{name}",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"description": "No such action"}},
)
async def start_action(
    name: Annotated[str, Path(max_length=100)],
    user: CurrentUser,
    db: SessionDep,
    kinds: KindsDep,
    response: Response,
    settings: SettingsDep,
    limiter: LimiterDep,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> JobOut:
    """Start a server action: the body is validated against the action's input schema
    (422 otherwise), and the job it starts is returned at once (202, with its Location);
    follow it at `GET /api/jobs/{id}` or the live `jobs.get`."""
    kind = kinds.get(name)
    if kind is None or not kind.action:
        raise NotFound("No such action.", code="action_not_found")
    try:
        args = kind.args.model_validate(body or {})
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    # After validation: a malformed body costs the user nothing but a 422.
    await limiter.hit(settings.rate_limit_actions_user, "action-start", str(user.id))
    job_id = await enqueue(db, kind.name, args, user_id=user.id)
    job = await service.get_job(db, user.id, job_id)
    response.headers["Location"] = f"/api/jobs/{job_id}"
    return _out(job)
