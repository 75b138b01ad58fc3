"""The keys feature: `/api/keys`, the live `keys.list`, the announcement of an account's
keys ending with it, and the keys' metadata in the account's export."""

from __future__ import annotations

from everything_app.auth import AccountDeletionHooks, AccountExportSections, ApiKey, table_section
from everything_app.core.features import Feature, Registry
from everything_app.keys.live import register_queries
from everything_app.keys.routes import router
from everything_app.keys.service import announce_keys_ended
from everything_app.realtime import QueryRegistry


def register(registry: Registry) -> None:
    registry[AccountDeletionHooks].add(announce_keys_ended)
    registry[AccountExportSections].add(
        table_section(
            "api_keys",
            ApiKey,
            exclude=("key_hash",),
            description="Your API keys' names, prefixes and dates (never the keys).",
        )
    )
    register_queries(registry[QueryRegistry])


feature = Feature("keys", routers=[router], register=register)
