"""The job rows: enqueue and cancel (in the caller's unit of work), and the engine's
transitions, each one atomic `UPDATE … WHERE status = … RETURNING`, so that when several
processes race for a job exactly one wins.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core import rls
from everything_app.core.changes import Change, record_change
from everything_app.core.db import after_commit, utcnow
from everything_app.core.jobs.models import FINISHED, Job, JobStatus

TABLE = "jobs"
# Session.info key of the app's dispatcher (set on its sessionmaker, see runtime).
DISPATCHER_KEY = "jobs_dispatcher"


class Dispatcher(Protocol):
    """Sends job messages to the queue (the app's jobs runtime)."""

    def knows(self, kind: str) -> bool: ...

    def max_attempts(self, kind: str) -> int: ...

    async def dispatch(self, job_ids: Sequence[uuid.UUID]) -> None: ...

    @property
    def sends_now(self) -> bool:
        """Whether a message sent now reaches a runner (not: the embedded queue of a
        process that runs no jobs, where the scheduler of the one that does picks it up)."""
        ...


def change(job: Job | JobRef, op: str = "update", **data: Any) -> Change:
    return Change(TABLE, op, job.id, job.user_id, data)  # type: ignore[arg-type]


@dataclass(frozen=True)
class JobRef:
    id: uuid.UUID
    user_id: uuid.UUID | None


async def enqueue(
    db: AsyncSession,
    kind: str,
    args: BaseModel | Mapping[str, Any],
    *,
    user_id: uuid.UUID | None,
    run_at: datetime | None = None,
    key: str | None = None,
) -> uuid.UUID:
    """Add a job in the caller's unit of work; its message goes out after the commit.

    `key` is unique forever: enqueueing an existing key returns that job's id and adds
    nothing (schedules use it to run once per period, features to enqueue idempotently).
    """
    dispatcher: Dispatcher | None = db.info.get(DISPATCHER_KEY)
    if dispatcher is not None and not dispatcher.knows(kind):
        raise ValueError(f"unknown job kind {kind!r}")
    payload = args.model_dump(mode="json") if isinstance(args, BaseModel) else dict(args)
    now = utcnow()
    due = run_at is None or run_at <= now
    sends = dispatcher is not None and dispatcher.sends_now and due
    job_id = uuid.uuid4()
    values = {
        "id": job_id,
        "user_id": user_id,
        "kind": kind,
        "args": payload,
        "status": JobStatus.QUEUED,
        "progress": 0,
        "progress_message": "",
        "attempts": 0,
        "max_attempts": dispatcher.max_attempts(kind) if dispatcher is not None else 5,
        "run_at": run_at or now,
        "key": key,
        # Optimistic: the message goes out right after the commit; if this process dies
        # first, the scheduler sends it again after JOBS_REDISPATCH_SECONDS.
        "dispatched_at": now if sends else None,
        "created_at": now,
        "updated_at": now,
    }
    if user_id is None or key is not None:
        # One of the app's own jobs, or a key another owner's job may hold: past the
        # caller's row security for this statement only.
        async with rls.system_access(db, tables=[TABLE], reason="enqueue", quiet=True):
            existing = await _insert_job(db, values, key)
    else:
        existing = await _insert_job(db, values, key)
    if existing is not None:
        return existing
    record_change(db, Change(TABLE, "insert", job_id, user_id, {"status": "queued"}))
    if sends:
        assert dispatcher is not None
        after_commit(db, lambda: dispatcher.dispatch([job_id]))
    return job_id


async def _insert_job(
    db: AsyncSession, values: dict[str, Any], key: str | None
) -> uuid.UUID | None:
    """Insert the job; with a key already taken, that job's id instead (nothing inserted)."""
    if key is None:
        await db.execute(_insert(db).values(**values))
        return None
    inserted = await db.execute(
        _insert(db)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Job.id)
    )
    if inserted.scalar_one_or_none() is not None:
        return None
    existing: uuid.UUID = (await db.execute(select(Job.id).where(Job.key == key))).scalar_one()
    return existing


def _insert(db: AsyncSession) -> Any:
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(Job)
    return sqlite.insert(Job)


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def cancel_queued(db: AsyncSession, *, key_prefix: str) -> int:
    """Cancel the not-yet-running jobs whose key starts with `key_prefix`; how many."""
    if not key_prefix:
        raise ValueError("key_prefix must not be empty")
    now = utcnow()
    async with rls.system_access(db, tables=[TABLE], reason="cancel_queued", quiet=True):
        rows = await db.execute(
            update(Job)
            .where(
                Job.status == JobStatus.QUEUED,
                Job.key.like(_like_prefix(key_prefix), escape="\\"),
            )
            .values(status=JobStatus.CANCELED, finished_at=now, updated_at=now)
            .returning(Job.id, Job.user_id)
            .execution_options(synchronize_session=False)
        )
        canceled = [JobRef(r.id, r.user_id) for r in rows]
    for ref in canceled:
        record_change(db, change(ref, status="canceled"))
    return len(canceled)


# --- for one user (the HTTP side) -------------------------------------------------------


async def cancel(db: AsyncSession, job: Job) -> bool:
    """Cancel a queued or running job (the row the caller may see); False if finished.
    A running job's worker stops it at its next await (it hears of it by this change, or
    at its next lease renewal at the latest)."""
    now = utcnow()
    # The caller could read the row (an administrator, one of the app's own jobs): it may
    # cancel it, which row security alone would not let an administrator do.
    async with rls.system_access(db, tables=[TABLE], reason="cancel", quiet=True):
        row = await db.execute(
            update(Job)
            .where(Job.id == job.id, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
            .values(status=JobStatus.CANCELED, finished_at=now, updated_at=now, lease_until=None)
            .returning(Job.id)
            .execution_options(synchronize_session=False)
        )
        found = row.scalar_one_or_none()
    if found is None:
        return False
    record_change(db, change(job, status="canceled"))
    await db.refresh(job)
    return True


# --- the engine's transitions (system scope on `jobs`) -----------------------------------


async def engine_scope(db: AsyncSession) -> None:
    await rls.act_as_system(db, tables=[TABLE], reason="jobs engine", quiet=True)


async def claim(db: AsyncSession, job_id: uuid.UUID, *, owner: str, lease: float) -> Job | None:
    """queued → running for `owner`, if the job is queued and due; else None (already
    running elsewhere under a lease, finished, canceled, or a retry not yet due)."""
    now = utcnow()
    row = await db.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED, Job.run_at <= now)
        .values(
            status=JobStatus.RUNNING,
            attempts=Job.attempts + 1,
            lease_owner=owner,
            lease_until=now + timedelta(seconds=lease),
            started_at=now,
            updated_at=now,
        )
        .returning(Job)
        .execution_options(synchronize_session=False)
    )
    job = row.scalar_one_or_none()
    if job is not None:
        record_change(db, change(job, status="running", attempts=job.attempts))
    return job


def _mine(job_id: uuid.UUID, owner: str) -> Any:
    return and_(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.lease_owner == owner)


async def set_progress(
    db: AsyncSession, job: JobRef, owner: str, percent: int, message: str
) -> bool:
    """False when the job is no longer this worker's (canceled, or its lease was lost)."""
    row = await db.execute(
        update(Job)
        .where(_mine(job.id, owner))
        .values(progress=percent, progress_message=message[:500], updated_at=utcnow())
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    if row.scalar_one_or_none() is None:
        return False
    record_change(db, change(job, progress=percent, message=message[:500]))
    return True


async def renew(
    db: AsyncSession, job_ids: Sequence[uuid.UUID], owner: str, lease: float
) -> set[uuid.UUID]:
    """Extend this worker's leases; the ids still ours (the others were canceled or lost)."""
    if not job_ids:
        return set()
    rows = await db.execute(
        update(Job)
        .where(
            Job.id.in_(list(job_ids)),
            Job.status == JobStatus.RUNNING,
            Job.lease_owner == owner,
        )
        .values(lease_until=utcnow() + timedelta(seconds=lease))
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    return set(rows.scalars())


async def succeed(
    db: AsyncSession, job: JobRef, owner: str, result: Any, *, clear_args: bool = False
) -> bool:
    """Succeeded with `result`; `clear_args` empties the arguments (JobKind.secret_args)."""
    now = utcnow()
    values: dict[str, Any] = {
        "status": JobStatus.SUCCEEDED,
        "progress": 100,
        "result": result,
        "error": None,
        "finished_at": now,
        "updated_at": now,
        "lease_owner": None,
        "lease_until": None,
    }
    if clear_args:
        values["args"] = {}
    row = await db.execute(
        update(Job)
        .where(_mine(job.id, owner))
        .values(**values)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    if row.scalar_one_or_none() is None:
        return False
    record_change(db, change(job, status="succeeded", progress=100))
    return True


async def fail(
    db: AsyncSession,
    job: JobRef,
    owner: str,
    error: str,
    *,
    retry_at: datetime | None,
    clear_args: bool = False,
) -> str | None:
    """Failed for good, or (`retry_at`) queued again for then; the status set, or None.
    `clear_args` empties the arguments of a job failed for good (JobKind.secret_args)."""
    now = utcnow()
    values: dict[str, Any] = {
        "error": error[:4000],
        "updated_at": now,
        "lease_owner": None,
        "lease_until": None,
    }
    if retry_at is None:
        values.update(status=JobStatus.FAILED, finished_at=now)
        if clear_args:
            values["args"] = {}
    else:
        values.update(status=JobStatus.QUEUED, run_at=retry_at, dispatched_at=None)
    row = await db.execute(
        update(Job)
        .where(_mine(job.id, owner))
        .values(**values)
        .returning(Job.status)
        .execution_options(synchronize_session=False)
    )
    status = row.scalar_one_or_none()
    if status is not None:
        record_change(db, change(job, status=status))
    return status


async def hand_back(db: AsyncSession, job: JobRef, owner: str) -> bool:
    """running → queued (this process is stopping): the attempt does not count."""
    now = utcnow()
    row = await db.execute(
        update(Job)
        .where(_mine(job.id, owner))
        .values(
            status=JobStatus.QUEUED,
            attempts=Job.attempts - 1,
            lease_owner=None,
            lease_until=None,
            dispatched_at=None,
            updated_at=now,
        )
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    if row.scalar_one_or_none() is None:
        return False
    record_change(db, change(job, status="queued"))
    return True


async def unsend(db: AsyncSession, job_id: uuid.UUID) -> None:
    await db.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(dispatched_at=None)
        .execution_options(synchronize_session=False)
    )


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds before retry `attempt` (1: the first retry): exponential, ±20 % jitter (so
    that jobs failing together do not retry together), never more than `cap`."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return float(min(cap, delay * random.uniform(0.8, 1.2)))  # noqa: S311 - jitter, no secret


async def expire_leases(db: AsyncSession) -> list[uuid.UUID]:
    """Running jobs whose lease ran out (their worker died): queued again, or failed once
    they have had all their attempts. The ids queued again (to send)."""
    now = utcnow()
    expired = and_(Job.status == JobStatus.RUNNING, Job.lease_until < now)
    failed = await db.execute(
        update(Job)
        .where(expired, Job.attempts >= Job.max_attempts)
        .values(
            status=JobStatus.FAILED,
            error="The worker running it stopped (its lease expired), on the last attempt.",
            finished_at=now,
            updated_at=now,
            lease_owner=None,
            lease_until=None,
        )
        .returning(Job.id, Job.user_id)
        .execution_options(synchronize_session=False)
    )
    for r in failed:
        record_change(db, change(JobRef(r.id, r.user_id), status="failed"))
    requeued = await db.execute(
        update(Job)
        .where(expired)
        .values(
            status=JobStatus.QUEUED,
            lease_owner=None,
            lease_until=None,
            dispatched_at=None,
            updated_at=now,
        )
        .returning(Job.id, Job.user_id)
        .execution_options(synchronize_session=False)
    )
    ids = []
    for r in requeued:
        record_change(db, change(JobRef(r.id, r.user_id), status="queued"))
        ids.append(r.id)
    return ids


async def engine_work_waiting(db: AsyncSession, *, redispatch_after: float) -> bool:
    """Whether `expire_leases` or `take_due` would change anything: one read, so an idle
    scheduler tick takes no write lock (SQLite) and writes nothing."""
    now = utcnow()
    expired = and_(Job.status == JobStatus.RUNNING, Job.lease_until < now)
    due = and_(
        Job.status == JobStatus.QUEUED,
        Job.run_at <= now,
        or_(
            Job.dispatched_at.is_(None),
            Job.dispatched_at < now - timedelta(seconds=redispatch_after),
        ),
    )
    found = await db.execute(
        select(exists().where(expired).label("expired"), exists().where(due).label("due"))
    )
    row = found.one()
    return bool(row.expired or row.due)


async def take_due(
    db: AsyncSession, *, redispatch_after: float, limit: int = 500, everything: bool = False
) -> list[uuid.UUID]:
    """Due queued jobs whose message is still to send (a delay or retry that came due, a
    job whose sender died before sending, a message lost): marked sent, so that one
    process sends each. `everything`: every due queued job (the embedded queue, at start:
    its messages died with the process)."""
    now = utcnow()
    unsent = or_(
        Job.dispatched_at.is_(None),
        Job.dispatched_at < now - timedelta(seconds=redispatch_after),
    )
    condition = and_(Job.status == JobStatus.QUEUED, Job.run_at <= now)
    if not everything:
        condition = and_(condition, unsent)
    candidates = select(Job.id).where(condition).order_by(Job.run_at).limit(limit)
    rows = await db.execute(
        update(Job)
        .where(Job.id.in_(candidates.scalar_subquery()), condition)
        .values(dispatched_at=now)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    return list(rows.scalars())


async def prune(db: AsyncSession, *, before: datetime) -> int:
    rows = await db.execute(
        delete(Job)
        .where(Job.status.in_(list(FINISHED)), Job.finished_at < before)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    return len(rows.all())
