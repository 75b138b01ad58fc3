"""The reservations' live query: a service's queue, as `GET /api/queues/{service_id}`."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth import User
from everything_app.core.changes import Change
from everything_app.core.errors import NotFound
from everything_app.core.validation import Input
from everything_app.realtime import QueryRegistry, Viewer
from everything_app.reservations import queue
from everything_app.reservations.schemas import QueueEntryOut, QueueOut


class QueueArgs(Input):
    model_config = ConfigDict(extra="forbid")

    service_id: uuid.UUID
    limit: int = Field(default=200, ge=1, le=1000)


async def queue_position(db: AsyncSession, viewer: Viewer, args: QueueArgs) -> QueueOut:
    """`GET /api/queues/{service_id}`, live: a user's own entries with how many wait ahead
    of each (tell them when it is their turn); for administrators the whole queue."""
    user = await db.get(User, viewer.user_id)
    if user is None:
        raise NotFound("User not found.")
    found = await queue.view(db, user, args.service_id, limit=args.limit)
    return QueueOut(
        service_id=found.service_id,
        now_serving=found.now_serving,
        waiting_count=found.waiting_count,
        entries=[
            QueueEntryOut.model_validate(p.entry).model_copy(update={"ahead": p.ahead})
            for p in found.places
        ],
    )


def in_queue(change: Change, viewer: Viewer, args: QueueArgs) -> bool:
    """Any move of this service's queue: every write to a queue also records a `queues`
    change owned by no one, since it shifts everybody's place."""
    if change.table in ("queues", "services"):
        return change.row_id == args.service_id
    service_id: Any = change.data.get("service_id")
    return service_id is None or service_id == str(args.service_id)


def register_queries(queries: QueryRegistry) -> None:
    queries.register(
        "queue.position",
        queue_position,
        args=QueueArgs,
        tables={"queues", "queue_entries", "services"},
        affects=in_queue,
    )
