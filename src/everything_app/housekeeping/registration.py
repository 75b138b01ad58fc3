"""The housekeeping feature: scheduled backups and sweeps, as job kinds on schedules, and
the last backup's outcome at `/readyz` and `/metrics`. No routes of its own."""

from __future__ import annotations

from everything_app.core.features import Feature, Registry
from everything_app.core.health import ReadinessDetails
from everything_app.core.jobs import JobKind, JobKinds, Schedule
from everything_app.core.metrics import DatabaseMetrics
from everything_app.housekeeping import backups, sweeps
from everything_app.settings import Settings

BACKUP = "backup.run"
SWEEPS = {
    "housekeeping.sessions": (sweeps.sweep_sessions, "Delete long-expired sessions."),
    "housekeeping.api_keys": (sweeps.sweep_api_keys, "Delete long-ended API keys."),
    "housekeeping.answers": (sweeps.sweep_answers, "End answers their server abandoned."),
}


def _backup_cron(settings: Settings) -> str | None:
    return settings.backup_schedule or None


def _sweep_cron(settings: Settings) -> str | None:
    return settings.housekeeping_schedule or None


def register(registry: Registry) -> None:
    kinds = registry[JobKinds]
    kinds.add(
        JobKind(
            BACKUP,
            backups.BackupArgs,
            backups.run_backup,
            max_attempts=3,
            summary="Back the database up into BACKUP_DIR, keeping the BACKUP_KEEP newest.",
        )
    )
    kinds.schedule(Schedule("backup.daily", BACKUP, cron=_backup_cron))
    for name, (handler, summary) in SWEEPS.items():
        kinds.add(JobKind(name, sweeps.SweepArgs, handler, summary=summary))
        kinds.schedule(Schedule(name, name, cron=_sweep_cron))
    registry[ReadinessDetails].add("backup", backups.readiness)
    registry[DatabaseMetrics].add(backups.metrics)


feature = Feature("housekeeping", register=register)
