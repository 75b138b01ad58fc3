"""The notifications feature: `/api/notifications`, the live `notifications.list`, and its
rows in the account's export."""

from __future__ import annotations

from everything_app.auth import AccountExportSections, table_section
from everything_app.core.features import Feature, Registry
from everything_app.notifications.live import register_queries
from everything_app.notifications.models import Notification
from everything_app.notifications.routes import router
from everything_app.realtime import QueryRegistry


def register(registry: Registry) -> None:
    register_queries(registry[QueryRegistry])
    registry[AccountExportSections].add(
        table_section(
            "notifications",
            Notification,
            exclude=("key",),
            description="What the app told you (reminders, your place in a queue).",
        )
    )


feature = Feature("notifications", routers=[router], register=register)
