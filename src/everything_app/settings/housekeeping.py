"""Scheduled upkeep: database backups and the sweeps of rows nobody needs any more."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cronsim import CronSim, CronSimError
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings


def _schedule(value: str) -> str:
    """A cron expression as the job scheduler reads it (cronsim: five fields, UTC), checked
    at start so a typo stops the process with the variable's name; empty turns it off."""
    value = " ".join(value.split())
    if value:
        try:
            CronSim(value, datetime.now(UTC))
        except CronSimError as exc:
            raise ValueError(
                f"{value!r} is not a cron expression like '0 3 * * *' ({exc}); empty turns it off"
            ) from None
    return value


class HousekeepingSettings(BaseSettings):
    # When to back the database up (cron, UTC; once per period across every instance);
    # empty turns scheduled backups off.
    backup_schedule: str = "0 3 * * *"
    # PostgreSQL: whom pg_dump logs in as (scheduled backups and `backup`): a read-only login
    # past row-level security (BYPASSRLS, in pg_read_all_data; see deploy/postgres/roles.sql).
    # Default: MIGRATION_DATABASE_URL, else DATABASE_URL.
    backup_database_url: str | None = None
    # Where scheduled backups go (default `<DATA_DIR>/backups`, created private).
    backup_dir: Path | None = None
    # How many of the app's backups BACKUP_DIR keeps; older ones are deleted after a backup.
    backup_keep: int = Field(default=7, ge=1, le=10_000)
    # When the sweeps run (cron, UTC): expired sessions, ended API keys, abandoned answers.
    # Empty turns them off.
    housekeeping_schedule: str = "17 * * * *"
    # How long an expired session row stays before it is deleted (it no longer signs in).
    housekeeping_session_grace_days: int = Field(default=1, ge=0, le=3650)
    # How long an expired or revoked API key stays listed (as such) before it is deleted.
    housekeeping_key_grace_days: int = Field(default=30, ge=0, le=3650)
    # Rows per delete statement: a big sweep is many short transactions, never one long lock.
    housekeeping_batch_size: int = Field(default=500, ge=1, le=100_000)

    @field_validator("backup_schedule", "housekeeping_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        return _schedule(value)
