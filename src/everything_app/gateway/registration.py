"""The gateway feature: `/v1` (OpenAI-compatible, for API keys) and `/api/usage`."""

from __future__ import annotations

from everything_app.core.features import Feature
from everything_app.gateway.routes import router, usage_router

# The gateway serves `/v1` (not under /api, where OpenAI clients would not look). Its router
# brings a lifespan of its own, merged into the app's.
feature = Feature("gateway", routers=[router, usage_router])
