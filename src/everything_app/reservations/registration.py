"""The reservations feature: services, reservations and queues under `/api`, and the live
`queue.position`."""

from __future__ import annotations

from everything_app.core.features import Feature, Registry
from everything_app.realtime import QueryRegistry
from everything_app.reservations.live import register_queries
from everything_app.reservations.routes import routers


def register(registry: Registry) -> None:
    register_queries(registry[QueryRegistry])


feature = Feature("reservations", routers=routers, register=register)
