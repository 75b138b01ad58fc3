from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from everything_app.core.db import Base


class BackupOutcome(StrEnum):
    OK = "ok"
    FAILED = "failed"


class BackupStatus(Base):
    """The last scheduled backup, one row per target (`database`), where every instance sees
    it (`/readyz`, `/metrics`). The app's own row: no owner, no row-level security."""

    __tablename__ = "backup_status"
    __table_args__ = (CheckConstraint("last_outcome IN ('ok', 'failed')", name="last_outcome"),)

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The last attempt: when it ended, how, why not (failed), how long it took.
    last_run_at: Mapped[datetime]
    last_outcome: Mapped[str] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_duration_seconds: Mapped[float | None] = mapped_column(Float)
    # The last backup that was written: when, its file name (in BACKUP_DIR) and size.
    last_success_at: Mapped[datetime | None]
    last_file: Mapped[str | None] = mapped_column(String(255))
    last_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    failures_total: Mapped[int] = mapped_column(BigInteger, default=0)
