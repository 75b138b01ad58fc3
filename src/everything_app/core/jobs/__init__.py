"""Background work: job kinds added by features (see kinds), rows in the `jobs` table, run by
a queue engine (see runtime: taskiq over a Redis stream, RabbitMQ, or in process).

Features add kinds in their `register` step and start jobs with `enqueue` inside their unit
of work; the message goes to the queue only once that work has committed.
"""

from everything_app.core.jobs.kinds import (
    Handler,
    JobContext,
    JobFailed,
    JobKind,
    JobKinds,
    JobServices,
    Schedule,
)
from everything_app.core.jobs.models import Job, JobStatus
from everything_app.core.jobs.store import cancel_queued, enqueue

__all__ = [
    "Handler",
    "Job",
    "JobContext",
    "JobFailed",
    "JobKind",
    "JobKinds",
    "JobServices",
    "JobStatus",
    "Schedule",
    "cancel_queued",
    "enqueue",
]
