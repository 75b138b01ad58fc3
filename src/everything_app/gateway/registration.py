"""The gateway feature: `/v1` (OpenAI-compatible, for API keys) and `/api/usage`; its usage
rows in the account's export."""

from __future__ import annotations

from everything_app.auth import AccountExportSections, table_section
from everything_app.core.features import Feature, Registry
from everything_app.gateway.models import AiUsage
from everything_app.gateway.routes import router, usage_router


def register(registry: Registry) -> None:
    registry[AccountExportSections].add(
        table_section("ai_usage", AiUsage, description="Every completion served for you.")
    )


# The gateway serves `/v1` (not under /api, where OpenAI clients would not look). Its router
# brings a lifespan of its own, merged into the app's.
feature = Feature("gateway", routers=[router, usage_router], register=register)
