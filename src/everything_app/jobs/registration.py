"""The jobs feature: `/api/jobs`, `/api/actions`, the live `jobs.list` and `jobs.get`, and
the daily prune of old finished jobs (`jobs.prune`, JOBS_KEEP_DAYS)."""

from __future__ import annotations

from everything_app.auth import AccountExportSections, table_section
from everything_app.core.features import Feature, Registry
from everything_app.core.jobs import Job, JobKind, JobKinds, Schedule
from everything_app.jobs.live import register_queries
from everything_app.jobs.routes import actions_router, router
from everything_app.jobs.service import PruneArgs, prune
from everything_app.realtime import QueryRegistry
from everything_app.settings import Settings


def _prune_cron(settings: Settings) -> str | None:
    return settings.jobs_prune_schedule or None


def register(registry: Registry) -> None:
    register_queries(registry[QueryRegistry])
    kinds = registry[JobKinds]
    kinds.add(
        JobKind("jobs.prune", PruneArgs, prune, max_attempts=3, summary="Delete old finished jobs")
    )
    kinds.schedule(Schedule("jobs.prune", "jobs.prune", cron=_prune_cron))
    registry[AccountExportSections].add(
        table_section(
            "jobs",
            Job,
            # The engine's bookkeeping, not the user's data.
            exclude=("key", "dispatched_at", "lease_owner", "lease_until"),
            description="Your jobs and actions (imports, exports), with their results.",
        )
    )


feature = Feature("jobs", routers=[router, actions_router], register=register)
