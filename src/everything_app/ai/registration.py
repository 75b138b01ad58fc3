"""The ai feature: `GET /api/models`. What it receives from the others: the offline
assistant's rules (`OfflineRules`, in their register step)."""

from __future__ import annotations

from everything_app.ai.routes import router
from everything_app.core.features import Feature

feature = Feature("ai", routers=[router])
