from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from everything_app.core.db import Base, IdMixin, utcnow

USAGE_STATUSES = ("complete", "error", "canceled")


class AiUsage(IdMixin, Base):
    """One completion served by the gateway: who asked, with which key, what it cost.

    Token counts are what the provider reported; an answer cut short before its report (an
    error or a client that left) keeps the row, with 0 where nothing was reported.
    """

    __tablename__ = "ai_usage"
    __table_args__ = (
        CheckConstraint("status IN ('complete', 'error', 'canceled')", name="status"),
        # Both summaries read one user's rows in a date range; per-key reports one key's.
        Index("ix_ai_usage_user_created", "user_id", "created_at"),
        Index("ix_ai_usage_key_created", "api_key_id", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Null when the caller used a session rather than a key; a deleted key keeps its history.
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    model: Mapped[str] = mapped_column(String(100))
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="complete")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
