"""The scheduled backup: a job of the app's own (no user), once per BACKUP_SCHEDULE period.

It writes a timestamped backup into BACKUP_DIR through core.backup (SQLite's online backup
API or pg_dump, private 0600 files renamed into place), in a thread so the event loop keeps
serving, then keeps the BACKUP_KEEP newest of the app's backups there. Its outcome goes to
the `backup_status` row, which every instance reads for `/readyz` and `/metrics`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core import backup as backups
from everything_app.core.db import utcnow
from everything_app.core.jobs import JobContext
from everything_app.core.logging import get_logger
from everything_app.core.metrics import count_backup
from everything_app.housekeeping.models import BackupOutcome, BackupStatus

log = get_logger(__name__)

TARGET = "database"  # the one thing backed up, the key of its status row
MAX_ERROR = 1000  # characters of a failure's message kept (and shown at /readyz)
# A temp file of a backup nobody has written to for this long was left by a killed backup.
STALE_PARTIAL = timedelta(hours=6)


# pg_dump logged in as the runtime role is refused tables (or stopped by row-level security,
# which would let it dump only some rows): backups read as a login past row-level security.
OWNER_HINT = (
    "set BACKUP_DATABASE_URL (a login that reads past row-level security) or "
    "MIGRATION_DATABASE_URL (the tables' owner) where jobs run: "
)


class BackupArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _needs_owner(error: str) -> bool:
    return error.startswith("pg_dump failed") and (
        "permission denied" in error or "row-level security" in error
    )


def describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:MAX_ERROR]


async def run_backup(ctx: JobContext, _args: BackupArgs) -> dict[str, Any]:
    """Back the database up into BACKUP_DIR and rotate; record the outcome either way. A
    failure is raised again, so the job is retried (and stays failed with its error)."""
    settings = ctx.settings
    started, clock = utcnow(), time.monotonic()
    await ctx.progress(0, "backing up the database")
    try:
        # Blocking work (SQLite's page copy, waiting on pg_dump) in a thread: requests and
        # other jobs on this event loop go on meanwhile.
        path = await asyncio.to_thread(backups.scheduled_backup, settings, started, _quiet)
        size = path.stat().st_size
    except Exception as exc:
        error = describe(exc)
        if _needs_owner(error) and not (
            settings.backup_database_url or settings.migration_database_url
        ):
            error = (OWNER_HINT + error)[:MAX_ERROR]
        log.error("backup_failed", error=error, job_id=str(ctx.job_id))
        count_backup(BackupOutcome.FAILED)
        async with ctx.unit_of_work(write=True) as db:
            await record(db, at=utcnow(), took=time.monotonic() - clock, error=error)
        raise
    took = time.monotonic() - clock
    await ctx.progress(80, "keeping the newest backups")
    deleted = await asyncio.to_thread(_tidy, path.parent, settings.backup_keep, utcnow())
    async with ctx.unit_of_work(write=True) as db:
        await record(db, at=utcnow(), took=took, file=path.name, size=size)
    count_backup(BackupOutcome.OK)
    log.info("backup_written", file=str(path), size=size, seconds=round(took, 3), deleted=deleted)
    await ctx.progress(100, f"backup written: {path.name}")
    return {"file": path.name, "size_bytes": size, "deleted": deleted}


def _quiet(_line: str) -> None:
    """Progress lines (pages copied, pg_dump's table by table): the job reports stages."""


def _tidy(directory: Path, keep: int, now: datetime) -> list[str]:
    """Rotation after a backup was written; a file that cannot go is logged, not fatal."""
    try:
        deleted = backups.rotate(directory, keep)
        deleted += backups.remove_stale_partials(directory, STALE_PARTIAL, now)
    except OSError as exc:
        log.warning("backup_rotation_failed", error=describe(exc))
        return []
    return [path.name for path in deleted]


async def record(
    db: AsyncSession,
    *,
    at: datetime,
    took: float,
    error: str | None = None,
    file: str | None = None,
    size: int | None = None,
) -> None:
    """Store the attempt's outcome in the status row (one statement, whoever wrote first)."""
    ok = error is None
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(BackupStatus).values(
        name=TARGET,
        last_run_at=at,
        last_outcome=BackupOutcome.OK if ok else BackupOutcome.FAILED,
        last_error=error,
        last_duration_seconds=took,
        last_success_at=at if ok else None,
        last_file=file,
        last_size_bytes=size,
        consecutive_failures=0 if ok else 1,
        failures_total=0 if ok else 1,
    )
    new = statement.excluded
    updates: dict[str, Any] = {
        "last_run_at": new.last_run_at,
        "last_outcome": new.last_outcome,
        "last_error": new.last_error,
        "last_duration_seconds": new.last_duration_seconds,
    }
    if ok:
        updates |= {
            "last_success_at": new.last_success_at,
            "last_file": new.last_file,
            "last_size_bytes": new.last_size_bytes,
            "consecutive_failures": 0,
        }
    else:
        updates |= {
            "consecutive_failures": BackupStatus.consecutive_failures + 1,
            "failures_total": BackupStatus.failures_total + 1,
        }
    await db.execute(statement.on_conflict_do_update(index_elements=["name"], set_=updates))


async def _status(db: AsyncSession) -> BackupStatus | None:
    found: BackupStatus | None = (
        await db.execute(select(BackupStatus).where(BackupStatus.name == TARGET))
    ).scalar_one_or_none()
    return found


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


async def readiness(db: AsyncSession) -> dict[str, Any]:
    """`/readyz`'s `backup`: the last attempt (`status` ok or failed, or `none` yet)."""
    row = await _status(db)
    if row is None:
        return {"status": "none"}
    return {
        "status": row.last_outcome,
        "last_run_at": _iso(row.last_run_at),
        "error": row.last_error,
        "last_success_at": _iso(row.last_success_at),
        "file": row.last_file,
        "size_bytes": row.last_size_bytes,
        "duration_seconds": row.last_duration_seconds,
        "consecutive_failures": row.consecutive_failures,
    }


async def metrics(db: AsyncSession) -> list[Metric]:
    """The status row as Prometheus figures (the same on every instance)."""
    row = await _status(db)
    if row is None:
        return []
    found: list[Metric] = []

    def gauge(name: str, documentation: str, value: float | None) -> None:
        if value is not None:
            found.append(GaugeMetricFamily(name, documentation, value=value))

    prefix = "everything_app_backup_"
    success = row.last_success_at.timestamp() if row.last_success_at else None
    gauge(f"{prefix}last_success_timestamp_seconds", "When the last backup was written.", success)
    gauge(
        f"{prefix}last_run_timestamp_seconds",
        "When the last backup attempt ended.",
        row.last_run_at.timestamp(),
    )
    gauge(
        f"{prefix}last_run_failed",
        "1 if the last backup attempt failed, else 0.",
        float(row.last_outcome == BackupOutcome.FAILED),
    )
    gauge(f"{prefix}last_size_bytes", "Size of the last backup written.", row.last_size_bytes)
    gauge(
        f"{prefix}consecutive_failures",
        "Backup attempts that failed since the last one that worked.",
        row.consecutive_failures,
    )
    found.append(
        CounterMetricFamily(
            f"{prefix}failures",
            "Backup attempts that failed, over every instance (read from the database).",
            value=row.failures_total,
        )
    )
    return found
