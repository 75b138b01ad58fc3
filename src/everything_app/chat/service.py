"""Chat sessions and messages: queries and writes, no HTTP."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from everything_app.chat.models import ChatSession, Message, MessageStatus, ToolCallRecord
from everything_app.chat.tools import CallKey
from everything_app.core import rls
from everything_app.core.changes import Change, Op, record_change
from everything_app.core.db import utcnow
from everything_app.core.errors import BadRequest, NotFound
from everything_app.core.pagination import After, Keyset, decode_cursor, keyset_page
from everything_app.core.timestamps import parse_instant

# AI SDK chat ids are client-made strings (nanoids); ours are UUIDs. A non-UUID chat id maps to
# a UUID derived from the user and the id, so one user's "abc" never meets another's.
CHAT_ID_NAMESPACE = uuid.UUID("6f1c1f0e-9a35-4a53-9f43-2f5e0f1d7a11")
ORPHAN_AFTER = timedelta(minutes=2)
ABANDONED_ERROR = "The answer was interrupted (the server restarted)."
TITLE_WORDS = 8
TITLE_CHARS = 80  # a list entry, not the column's 200

# The orders chat's lists page in (core.pagination).
RECENTLY_ACTIVE = Keyset(ChatSession.updated_at, ChatSession.id)
READING_ORDER = Keyset(Message.created_at, Message.id, descending=False)
NEWEST_FIRST = Keyset(Message.created_at, Message.id)


def session_id_for(user_id: uuid.UUID, chat_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(chat_id)
    except ValueError:
        return uuid.uuid5(CHAT_ID_NAMESPACE, f"{user_id}:{chat_id}")


def _session_changed(db: AsyncSession, session: ChatSession, op: Op = "update") -> None:
    record_change(db, Change("chat_sessions", op, session.id, session.user_id))


def message_changed(db: AsyncSession, message: Message, op: Op = "update") -> None:
    record_message_change(db, message.id, message.user_id, message.session_id, op)


def record_message_change(
    db: AsyncSession,
    message_id: uuid.UUID,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    op: Op = "update",
) -> None:
    data = {"session_id": str(session_id)}
    record_change(db, Change("messages", op, message_id, user_id, data))


def session_not_found() -> NotFound:
    return NotFound("Chat session not found.", code="chat_session_not_found")


async def get_session(db: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID) -> ChatSession:
    """One of the user's sessions; another user's is indistinguishable from a missing one."""
    found = (
        await db.execute(
            select(ChatSession).where(ChatSession.id == session_id, ChatSession.user_id == user_id)
        )
    ).scalar_one_or_none()
    if found is None:
        raise session_not_found()
    return found


async def find_session(
    db: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID
) -> ChatSession | None:
    """The user's session, or None if there is none (a chat is created on first use); 404 if
    it is another user's. On PostgreSQL row-level security already hides another user's
    session, so callers also compare the owner of anything held in memory."""
    found = await db.get(ChatSession, session_id)
    if found is not None and found.user_id != user_id:
        raise session_not_found()
    return found


async def check_not_foreign(db: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
    """404 if the session exists and is another user's; a missing one is fine."""
    await find_session(db, user_id, session_id)


class Lookup(enum.Enum):
    NEEDED = "needed"  # the caller has not looked the session up yet


async def get_or_create_session(
    db: AsyncSession,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    model: str,
    title: str | None = None,
    *,
    known: ChatSession | Lookup | None = Lookup.NEEDED,
) -> tuple[ChatSession, bool]:
    """The session, or a new one named `title` (a title is there from the first answer on).
    `known`: what `find_session` already found in this unit of work (saves a lookup)."""
    found = await find_session(db, user_id, session_id) if known is Lookup.NEEDED else known
    if found is not None:
        return found, False
    # One statement, no savepoint: an id already taken (by a session made meanwhile, or one
    # that PostgreSQL's row-level security hides from us) inserts nothing instead of failing.
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(ChatSession)
        .values(id=session_id, user_id=user_id, model=model, title=title)
        .on_conflict_do_nothing(index_elements=[ChatSession.id])
        .returning(ChatSession)
    )
    session = (await db.scalars(statement)).one_or_none()
    if session is None:
        # Made meanwhile by the same user (then it is theirs to use), or another user's: 404.
        again = await find_session(db, user_id, session_id)
        if again is None:
            raise session_not_found()
        return again, False
    _session_changed(db, session, "insert")
    return session, True


async def list_sessions(
    db: AsyncSession, user_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[ChatSession], str | None]:
    query = select(ChatSession).where(ChatSession.user_id == user_id)
    return await keyset_page(db, query, RECENTLY_ACTIVE, cursor=cursor, limit=limit)


async def rename_session(
    db: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID, title: str
) -> ChatSession:
    session = await get_session(db, user_id, session_id)
    session.title = title
    session.updated_at = utcnow()
    await db.flush()
    _session_changed(db, session)
    return session


async def delete_session(db: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
    session = await get_session(db, user_id, session_id)
    await db.execute(delete(ChatSession).where(ChatSession.id == session.id))
    _session_changed(db, session, "delete")


async def add_message(
    db: AsyncSession,
    session: ChatSession,
    *,
    role: str,
    content: str,
    model: str | None = None,
    status: str = MessageStatus.COMPLETE,
    touch: bool = True,
) -> Message:
    """A new message; `touch`: the session moves to the top of the list (activity). A turn
    touches it once, with its last message; a session made in this turn is already there."""
    message = Message(
        session_id=session.id,
        user_id=session.user_id,
        role=role,
        content=content,
        # A question is whole when written; an answer's parts are written when it finishes.
        parts=[{"type": "text", "text": content}] if role == "user" else None,
        model=model,
        status=status,
    )
    db.add(message)
    if touch:
        session.updated_at = utcnow()
    await db.flush()
    message_changed(db, message, "insert")
    if touch:
        _session_changed(db, session)
    return message


async def conversation(db: AsyncSession, session_id: uuid.UUID) -> list[Message]:
    """The stored turns of a session, oldest first: the only history a model ever sees."""
    result = await db.execute(
        select(Message)
        .where(Message.session_id == session_id, Message.status != MessageStatus.STREAMING)
        .order_by(Message.created_at, Message.id)
    )
    return list(result.scalars())


async def last_message(db: AsyncSession, session_id: uuid.UUID) -> Message | None:
    result = await db.execute(
        select(Message)
        .where(Message.session_id == session_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def delete_message(db: AsyncSession, message: Message) -> None:
    await db.execute(delete(Message).where(Message.id == message.id))
    message_changed(db, message, "delete")


async def list_messages(
    db: AsyncSession,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
    newest_first: bool = False,
) -> tuple[list[Message], str | None]:
    """A session's messages oldest first (reading order), keyset paginated; `newest_first`
    pages backwards from the latest, as a chat view opening at its end and scrolling up
    needs (each page's cursor leads to older messages)."""
    await get_session(db, user_id, session_id)
    query = select(Message).where(Message.session_id == session_id)
    order = NEWEST_FIRST if newest_first else READING_ORDER
    return await keyset_page(db, query, order, cursor=cursor, limit=limit)


async def history(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    before: str | None,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[Message], str | None]:
    """Infinite scroll: the user's messages across sessions, newest first.

    `cursor` is the `next_cursor` of the previous page; `before` is a message id, an ISO
    timestamp, or that cursor. They name the same thing, so only one may be given.
    """
    if cursor and before:
        raise BadRequest("Give `cursor` or `before`, not both.", code="cursor_and_before")
    query = select(Message).where(Message.user_id == user_id)
    after = await _before_key(db, user_id, before) if before else None
    return await keyset_page(
        db, query, NEWEST_FIRST, cursor=cursor or None, after=after, limit=limit
    )


async def _before_key(db: AsyncSession, user_id: uuid.UUID, before: str) -> After:
    try:
        message_id = uuid.UUID(before)
    except ValueError:
        pass
    else:
        found = (
            await db.execute(
                select(Message.created_at).where(
                    Message.id == message_id, Message.user_id == user_id
                )
            )
        ).scalar_one_or_none()
        if found is None:
            raise NotFound("Message not found.", code="message_not_found")
        return found, message_id
    try:
        datetime.fromisoformat(before.replace("Z", "+00:00"))
    except ValueError:
        return decode_cursor(before)  # not a time: the previous page's cursor
    try:
        return parse_instant(before), None
    except ValueError as exc:
        raise BadRequest(
            f"`before` is not a usable time: {exc} (e.g. 2026-01-01T12:00:00Z).",
            code="invalid_before",
        ) from None


def title_from(text: str) -> str:
    """A title from the first user message, at once and for free: its first TITLE_WORDS words,
    cut at a word boundary (with an ellipsis when cut) and within TITLE_CHARS."""
    words = text.split()
    title = ""
    for word in words[:TITLE_WORDS]:
        longer = f"{title} {word}" if title else word
        if len(longer) > TITLE_CHARS - 1:
            break
        title = longer
    if not title and words:  # one very long word: cut inside it
        title = words[0][: TITLE_CHARS - 1]
    cut = title != " ".join(words)
    return (title + ("…" if cut else "")) or "New chat"


async def set_title_if_missing(
    db: AsyncSession, session_id: uuid.UUID, title: str, derived: str | None = None
) -> None:
    """Name the session unless it has a name other than `derived` (the one taken from its
    first message, which a better one may replace; a name the user gave stays)."""
    unnamed: ColumnElement[bool] = ChatSession.title.is_(None)
    if derived is not None:
        unnamed = or_(unnamed, ChatSession.title == derived)
    await db.execute(
        update(ChatSession)
        .where(ChatSession.id == session_id, unnamed)
        # A title is not activity: keep the session's place in the list.
        .values(title=title[:200], updated_at=ChatSession.updated_at)
    )


async def mark_orphans(db: AsyncSession, now: datetime | None = None) -> int:
    """Finish `streaming` answers nobody is writing any more (their server went away)."""
    cutoff = (now or utcnow()) - ORPHAN_AFTER
    result = await db.execute(
        update(Message)
        .where(Message.status == MessageStatus.STREAMING, Message.updated_at < cutoff)
        .values(status=MessageStatus.ERROR, error=ABANDONED_ERROR)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def end_abandoned_answers(db: AsyncSession, *, stale_before: datetime, limit: int) -> int:
    """One batch of the housekeeping sweep, across users: answers still `streaming` that
    nobody has written since `stale_before` (their server went away) become `error`, at most
    `limit`, each announced to live views of `chat.messages`; returns how many. A live answer
    that was only silent is put right by its own final write, which sets its real status."""
    await rls.act_as_system(db, tables=["messages"], reason="sweep abandoned answers")
    stale = (Message.status == MessageStatus.STREAMING) & (Message.updated_at < stale_before)
    batch = select(Message.id).where(stale).limit(limit)
    rows = (
        await db.execute(
            update(Message)
            .where(Message.id.in_(batch.scalar_subquery()), stale)
            .values(status=MessageStatus.ERROR, error=ABANDONED_ERROR, updated_at=utcnow())
            .returning(Message.id, Message.user_id, Message.session_id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    for message_id, user_id, session_id in rows:
        record_message_change(db, message_id, user_id, session_id)
    return len(rows)


async def count_streaming(db: AsyncSession, user_id: uuid.UUID) -> int:
    result = await db.execute(
        select(func.count())
        .select_from(Message)
        .where(Message.user_id == user_id, Message.status == MessageStatus.STREAMING)
    )
    return int(result.scalar_one())


async def recorded_tool_output(db: AsyncSession, key: CallKey) -> dict[str, Any] | None:
    """The output of this call if it was already made in this turn (see CallKey)."""
    output: dict[str, Any] | None = (
        await db.execute(
            select(ToolCallRecord.output).where(
                ToolCallRecord.message_id == key.message_id, ToolCallRecord.call_key == key.key
            )
        )
    ).scalar_one_or_none()
    return output


async def record_tool_output(
    db: AsyncSession, user_id: uuid.UUID, key: CallKey, name: str, output: dict[str, Any]
) -> None:
    """Remember a call's output in the transaction of its write. IntegrityError: the same call
    was recorded meanwhile (a racing retry); roll back, and use `recorded_tool_output`."""
    db.add(
        ToolCallRecord(
            user_id=user_id, message_id=key.message_id, call_key=key.key, name=name, output=output
        )
    )
    await db.flush()
