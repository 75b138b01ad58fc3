"""The `jobs` table: the source of truth of every job (the queue only carries ids)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from everything_app.core.db import Base, IdMixin, utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED})


class Job(IdMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # The scheduler's scans: due queued jobs, expired leases (both by status first).
        Index("ix_jobs_status_run_at", "status", "run_at"),
        Index("ix_jobs_user_id_created_at", "user_id", "created_at"),
    )

    # None for the app's own jobs (backups, housekeeping): administrators see those.
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str] = mapped_column(String(100))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)
    progress_message: Mapped[str] = mapped_column(String(500), default="")
    result: Mapped[Any | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    # Not before this instant (delays, retries' backoff, a schedule's period start).
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Unique forever when set: enqueueing an existing key returns that job.
    key: Mapped[str | None] = mapped_column(String(300), unique=True, default=None)
    # When its message last went to the queue (None: to send, by the scheduler).
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    # Who runs it and until when that claim holds (renewed while it runs).
    lease_owner: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
