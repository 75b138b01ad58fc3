"""The notifications feature: `/api/notifications` and the live `notifications.list`."""

from __future__ import annotations

from everything_app.core.features import Feature, Registry
from everything_app.notifications.live import register_queries
from everything_app.notifications.routes import router
from everything_app.realtime import QueryRegistry


def register(registry: Registry) -> None:
    register_queries(registry[QueryRegistry])


feature = Feature("notifications", routers=[router], register=register)
