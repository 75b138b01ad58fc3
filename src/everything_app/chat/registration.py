"""The chat feature: `/api/chat` and its live queries. What it receives from the others:
the tools they offer in chat (`ToolBoxes`)."""

from __future__ import annotations

from everything_app.chat.live import register_queries
from everything_app.chat.routes import router
from everything_app.core.features import Feature, Registry
from everything_app.realtime import QueryRegistry


def register(registry: Registry) -> None:
    register_queries(registry[QueryRegistry])


feature = Feature("chat", routers=[router], register=register)
