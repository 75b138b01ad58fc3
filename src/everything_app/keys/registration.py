"""The keys feature: `/api/keys`, the live `keys.list`, and the announcement of an account's
keys ending with it."""

from __future__ import annotations

from everything_app.auth import AccountDeletionHooks
from everything_app.core.features import Feature, Registry
from everything_app.keys.live import register_queries
from everything_app.keys.routes import router
from everything_app.keys.service import announce_keys_ended
from everything_app.realtime import QueryRegistry


def register(registry: Registry) -> None:
    registry[AccountDeletionHooks].add(announce_keys_ended)
    register_queries(registry[QueryRegistry])


feature = Feature("keys", routers=[router], register=register)
