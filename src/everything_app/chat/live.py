"""Chat's live queries: the session list, and one session's latest messages.

Results have the same shapes as the matching REST reads, so a client renders both alike.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.chat import service
from everything_app.chat.models import Message
from everything_app.chat.schemas import MessageOut, SessionOut
from everything_app.core.changes import Change
from everything_app.core.pagination import MAX_LIMIT, Page, keyset_page
from everything_app.core.validation import Input
from everything_app.realtime import PageArgs, QueryRegistry, Viewer, owner_matches


class MessagesArgs(Input):
    model_config = ConfigDict(extra="forbid")

    session_id: uuid.UUID
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)


class MessagesOut(BaseModel):
    data: list[MessageOut]
    has_more: bool


async def chat_sessions(db: AsyncSession, viewer: Viewer, args: PageArgs) -> Page[SessionOut]:
    """`GET /api/chat/sessions`, live: the caller's chat sessions, most recently active first."""
    rows, cursor = await service.list_sessions(
        db, viewer.user_id, cursor=args.cursor, limit=args.limit
    )
    return Page[SessionOut](data=[SessionOut.model_validate(r) for r in rows], next_cursor=cursor)


async def chat_messages(db: AsyncSession, viewer: Viewer, args: MessagesArgs) -> MessagesOut:
    """The latest `limit` messages of one of the caller's chat sessions, in reading order,
    an answer still streaming included (its text grows with each flush). Older pages come
    from `GET /api/chat/messages`. Another user's session is not_found."""
    await service.get_session(db, viewer.user_id, args.session_id)
    query = select(Message).where(Message.session_id == args.session_id)
    newest, older = await keyset_page(db, query, service.NEWEST_FIRST, limit=args.limit)
    return MessagesOut(
        data=[MessageOut.model_validate(m) for m in reversed(newest)],
        has_more=older is not None,
    )


def in_session(change: Change, viewer: Viewer, args: MessagesArgs) -> bool:
    """A message of this session, or this session itself (deleted: the query ends)."""
    if not owner_matches(change, viewer, args):
        return False
    if change.table == "chat_sessions":
        return change.row_id == args.session_id
    session_id: Any = change.data.get("session_id")
    return session_id is None or session_id == str(args.session_id)


def register_queries(queries: QueryRegistry) -> None:
    queries.register("chat.sessions", chat_sessions, args=PageArgs, tables={"chat_sessions"})
    queries.register(
        "chat.messages",
        chat_messages,
        args=MessagesArgs,
        tables={"messages", "chat_sessions"},
        affects=in_session,
    )
