"""Background work: job kinds added by features, run by a queue engine (see kinds)."""

from everything_app.core.jobs.kinds import (
    Handler,
    JobContext,
    JobFailed,
    JobKind,
    JobKinds,
    JobServices,
    Schedule,
)

__all__ = [
    "Handler",
    "JobContext",
    "JobFailed",
    "JobKind",
    "JobKinds",
    "JobServices",
    "Schedule",
]
