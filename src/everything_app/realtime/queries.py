"""Every live query, one `register_query` line each (the functions they run are above them).

Results have the same shapes as the matching REST reads, so a client renders both alike.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth.models import User
from everything_app.chat import service as chat_service
from everything_app.chat.models import Message
from everything_app.chat.schemas import MessageOut, SessionOut
from everything_app.core.changes import Change
from everything_app.core.errors import NotFound
from everything_app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from everything_app.core.validation import Input
from everything_app.keys import service as keys_service
from everything_app.keys.schemas import KeyOut
from everything_app.owned import ListQuery, OwnedTable, registered
from everything_app.owned import service as owned_service
from everything_app.realtime.registry import (
    QUERIES,
    QueryRegistry,
    Runner,
    Viewer,
    owner_matches,
    register_query,
)
from everything_app.reservations import queue
from everything_app.reservations.schemas import QueueEntryOut, QueueOut


class PageArgs(Input):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=500)


class KeysArgs(PageArgs):
    revoked: bool | None = None


class MessagesArgs(Input):
    model_config = ConfigDict(extra="forbid")

    session_id: uuid.UUID
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)


class MessagesOut(BaseModel):
    data: list[MessageOut]
    has_more: bool


async def keys_list(db: AsyncSession, viewer: Viewer, args: KeysArgs) -> Page[KeyOut]:
    """`GET /api/keys`, live: the caller's API keys, newest first."""
    keys, cursor = await keys_service.list_keys(
        db, viewer.user_id, cursor=args.cursor, limit=args.limit, revoked=args.revoked
    )
    return Page[KeyOut](data=[KeyOut.model_validate(k) for k in keys], next_cursor=cursor)


async def chat_sessions(db: AsyncSession, viewer: Viewer, args: PageArgs) -> Page[SessionOut]:
    """`GET /api/chat/sessions`, live: the caller's chat sessions, most recently active first."""
    rows, cursor = await chat_service.list_sessions(
        db, viewer.user_id, cursor=args.cursor, limit=args.limit
    )
    return Page[SessionOut](data=[SessionOut.model_validate(r) for r in rows], next_cursor=cursor)


async def chat_messages(db: AsyncSession, viewer: Viewer, args: MessagesArgs) -> MessagesOut:
    """The latest `limit` messages of one of the caller's chat sessions, in reading order,
    an answer still streaming included (its text grows with each flush). Older pages come
    from `GET /api/chat/messages`. Another user's session is not_found."""
    await chat_service.get_session(db, viewer.user_id, args.session_id)
    rows = list(
        (
            await db.execute(
                select(Message)
                .where(Message.session_id == args.session_id)
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(args.limit + 1)
            )
        ).scalars()
    )
    newest = rows[: args.limit]
    return MessagesOut(
        data=[MessageOut.model_validate(m) for m in reversed(newest)],
        has_more=len(rows) > args.limit,
    )


def in_session(change: Change, viewer: Viewer, args: MessagesArgs) -> bool:
    """A message of this session, or this session itself (deleted: the query ends)."""
    if not owner_matches(change, viewer, args):
        return False
    if change.table == "chat_sessions":
        return change.row_id == args.session_id
    session_id: Any = change.data.get("session_id")
    return session_id is None or session_id == str(args.session_id)


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


register_query("keys.list", keys_list, args=KeysArgs, tables={"api_keys"})
register_query("chat.sessions", chat_sessions, args=PageArgs, tables={"chat_sessions"})
register_query(
    "chat.messages",
    chat_messages,
    args=MessagesArgs,
    tables={"messages", "chat_sessions"},
    affects=in_session,
)
register_query(
    "queue.position",
    queue_position,
    args=QueueArgs,
    tables={"queues", "queue_entries", "services"},
    affects=in_queue,
)


def owned_list(table: OwnedTable) -> Runner[ListQuery]:
    """`GET /api/<table>`, live: the same filters, sort and paging as the REST list."""

    async def run(db: AsyncSession, viewer: Viewer, args: ListQuery) -> dict[str, Any]:
        rows, cursor = await owned_service.list_rows(db, table, viewer.user_id, args)
        return {"data": [table.read.model_validate(r) for r in rows], "next_cursor": cursor}

    return run


def register_owned_tables(registry: QueryRegistry = QUERIES) -> None:
    """`<table>.list` (tasks.list, events.list, expenses.list, …) for every owned table.

    Called when the app starts, once every feature has declared its tables. The default
    predicate (the viewer's own rows) is exact enough: any write to one of the viewer's rows
    re-runs the list, so a row that stops (or starts) matching the filters is seen.
    """
    for table in registered():
        name = f"{table.path}.list"
        if name not in registry:
            register_query(
                name,
                owned_list(table),
                args=table.query,
                tables={table.table_name},
                registry=registry,
            )
