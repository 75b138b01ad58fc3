"""The sweeps: rows that only grow unless something deletes them.

Each sweep fixes its cutoff when it starts, then deletes in batches of
HOUSEKEEPING_BATCH_SIZE rows, one short transaction each (a big sweep never holds a table
for long; on SQLite, other writers get the lock between batches), until a batch comes back
short. The queries live with the tables' owners (auth, keys, chat); each batch announces its
deletions as changes, so live queries (`keys.list`) and credential caches follow at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth import delete_expired_sessions
from everything_app.chat import end_abandoned_answers
from everything_app.core.db import utcnow
from everything_app.core.jobs import JobContext
from everything_app.core.logging import get_logger
from everything_app.keys import delete_ended_keys

log = get_logger(__name__)

# An answer still `streaming` with no write for this long lost its server (a live one writes
# every CHAT_FLUSH_SECONDS while tokens come; a silent model is put right by its final write).
ABANDONED_AFTER = timedelta(minutes=15)

Batch = Callable[[AsyncSession, int], Awaitable[int]]


class SweepArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


async def in_batches(ctx: JobContext, what: str, batch: Batch) -> dict[str, Any]:
    size = ctx.settings.housekeeping_batch_size
    total = batches = 0
    while True:
        async with ctx.unit_of_work(write=True) as db:
            done = await batch(db, size)
        total, batches = total + done, batches + 1
        if done < size:
            break
        await ctx.progress(min(99, batches), f"{total} {what} so far")
    if total:
        log.info("housekeeping_swept", what=what, count=total, job_id=str(ctx.job_id))
    await ctx.progress(100, f"{total} {what}")
    return {what: total}


async def sweep_sessions(ctx: JobContext, _args: SweepArgs) -> dict[str, Any]:
    """Delete sessions expired for longer than HOUSEKEEPING_SESSION_GRACE_DAYS."""
    cutoff = utcnow() - timedelta(days=ctx.settings.housekeeping_session_grace_days)

    async def batch(db: AsyncSession, limit: int) -> int:
        return await delete_expired_sessions(db, expired_before=cutoff, limit=limit)

    return await in_batches(ctx, "sessions_deleted", batch)


async def sweep_api_keys(ctx: JobContext, _args: SweepArgs) -> dict[str, Any]:
    """Delete API keys revoked or expired for longer than HOUSEKEEPING_KEY_GRACE_DAYS."""
    cutoff = utcnow() - timedelta(days=ctx.settings.housekeeping_key_grace_days)

    async def batch(db: AsyncSession, limit: int) -> int:
        return await delete_ended_keys(db, ended_before=cutoff, limit=limit)

    return await in_batches(ctx, "api_keys_deleted", batch)


async def sweep_answers(ctx: JobContext, _args: SweepArgs) -> dict[str, Any]:
    """End answers left `streaming` by a server that went away (start-up does this too, but
    only when some instance restarts)."""
    cutoff = utcnow() - ABANDONED_AFTER

    async def batch(db: AsyncSession, limit: int) -> int:
        return await end_abandoned_answers(db, stale_before=cutoff, limit=limit)

    return await in_batches(ctx, "answers_ended", batch)
