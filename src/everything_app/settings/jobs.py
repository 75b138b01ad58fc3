"""Background jobs: where their messages go, who runs them, how they retry."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings


class JobsSettings(BaseSettings):
    # Empty: a Redis stream on REDIS_URL when set, else the embedded queue (jobs run inside
    # `serve`, resumed from the database after a restart). Or `redis://…`, `amqp://…`, `memory`.
    jobs_broker_url: str = ""
    # Server actions (`POST /api/actions/{name}`) one user may start: each is real work
    # (an export zips every row the user has), and a loop of them would starve everyone.
    rate_limit_actions_user: str = "30/minute"
    # Whether `serve` runs jobs itself; false leaves them to `everything-app worker`.
    jobs_in_serve: bool = True
    # Jobs one process runs at once.
    jobs_concurrency: int = Field(default=8, ge=1, le=1000)
    # On SIGTERM, running jobs get this long to finish; the rest are handed back (queued).
    jobs_shutdown_grace: float = Field(default=10.0, ge=0, le=3600)
    # A running job's lease: renewed while it runs; once expired (its worker died) the job is
    # queued again, for another worker.
    jobs_lease_seconds: float = Field(default=30.0, ge=0.5, le=3600)
    # How often each process's scheduler looks for due, retried, expired and lost jobs.
    jobs_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # A queued job whose message went out this long ago without a start is sent again.
    jobs_redispatch_seconds: float = Field(default=60.0, gt=0, le=86400)
    # Retries: the n-th waits base * 2^(n-1) seconds, ±20 % jitter, at most max.
    jobs_retry_base_seconds: float = Field(default=2.0, ge=0, le=3600)
    jobs_retry_max_seconds: float = Field(default=600.0, ge=0, le=86400)
    # Finished job rows are deleted after this many days (the daily `jobs.prune`).
    jobs_keep_days: int = Field(default=30, ge=1, le=3650)
    # Cron of the prune; empty turns it off.
    jobs_prune_schedule: str = "17 4 * * *"

    @field_validator("jobs_broker_url")
    @classmethod
    def _broker_scheme(cls, value: str) -> str:
        value = value.strip()
        if (
            value
            and value != "memory"
            and not value.startswith(("redis://", "rediss://", "unix://", "amqp://", "amqps://"))
        ):
            raise ValueError("must be empty, memory, a redis:// URL or an amqp:// URL")
        return value
