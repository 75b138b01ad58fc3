"""The reservations feature: services, reservations and queues under `/api`, the live
`queue.position`, the jobs that remind and notify holders (notices), and its rows in the
account's export."""

from __future__ import annotations

from everything_app.auth import AccountExportSections, table_section
from everything_app.core.features import Feature, Registry
from everything_app.core.jobs import JobKinds
from everything_app.realtime import QueryRegistry
from everything_app.reservations.live import register_queries
from everything_app.reservations.models import QueueEntry, Reservation
from everything_app.reservations.notices import register_jobs
from everything_app.reservations.routes import routers


def register(registry: Registry) -> None:
    register_queries(registry[QueryRegistry])
    sections = registry[AccountExportSections]
    sections.add(
        table_section(
            "reservations",
            Reservation,
            order=Reservation.time_slot,
            description="Your reservations, canceled ones included.",
        )
    )
    sections.add(
        table_section("queue_entries", QueueEntry, description="Your places in services' queues.")
    )
    register_jobs(registry[JobKinds])


feature = Feature("reservations", routers=routers, register=register)
