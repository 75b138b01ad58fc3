from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from everything_app.core.db import Base, IdMixin, TimestampMixin, utcnow

MESSAGE_ROLES = ("user", "assistant", "system", "tool")


class MessageStatus(StrEnum):
    """An answer's state: streamed until it ends complete, failed or canceled."""

    STREAMING = "streaming"
    COMPLETE = "complete"
    ERROR = "error"
    CANCELED = "canceled"


class ChatSession(IdMixin, TimestampMixin, Base):
    """A conversation. Its id is also the AI SDK's chat id."""

    __tablename__ = "chat_sessions"
    __table_args__ = (Index("ix_chat_sessions_user_updated", "user_id", "updated_at", "id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(100))


class Message(IdMixin, Base):
    """One turn: who said it (`role`), what, and when (`created_at`)."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("role IN ('user', 'assistant', 'system', 'tool')", name="role"),
        CheckConstraint("status IN ('streaming', 'complete', 'error', 'canceled')", name="status"),
        Index("ix_messages_session_created", "session_id", "created_at", "id"),
        Index("ix_messages_user_created", "user_id", "created_at", "id"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("chat_sessions.id", ondelete="CASCADE")
    )
    # Denormalised owner: history across sessions and row-level security need no join.
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    # AI SDK message parts beyond plain text (tool calls and their results).
    parts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    model: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.COMPLETE)
    error: Mapped[str | None] = mapped_column(String(1000))
    input_tokens: Mapped[int | None]
    output_tokens: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Moves while an answer streams: a `streaming` row that stops moving is an orphan.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ToolCallRecord(IdMixin, Base):
    """A tool's write, remembered per user turn so that it happens once.

    A regenerated answer runs the model again, and it calls the same tools again: a call
    whose key (tool, canonical arguments, and which such call of the turn it is) was already
    made for this user message gets the stored output instead of a second record. The row is
    written in the tool's own transaction, so the write and its record land together; the
    unique key lets only one of two racing calls commit."""

    __tablename__ = "chat_tool_calls"
    __table_args__ = (UniqueConstraint("message_id", "call_key"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The user message the turn answers (kept when its answer is regenerated).
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    call_key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    output: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
