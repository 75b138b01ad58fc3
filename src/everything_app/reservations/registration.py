"""The reservations feature: services, reservations and queues under `/api`, the live
`queue.position`, and the jobs that remind and notify holders (notices)."""

from __future__ import annotations

from everything_app.core.features import Feature, Registry
from everything_app.core.jobs import JobKinds
from everything_app.realtime import QueryRegistry
from everything_app.reservations.live import register_queries
from everything_app.reservations.notices import register_jobs
from everything_app.reservations.routes import routers


def register(registry: Registry) -> None:
    register_queries(registry[QueryRegistry])
    register_jobs(registry[JobKinds])


feature = Feature("reservations", routers=routers, register=register)
