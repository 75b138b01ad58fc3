"""The realtime feature: `/api/realtime` (WebSocket and SSE). The live queries it serves
are the ones the other features register (core.features)."""

from __future__ import annotations

from everything_app.core.features import Feature
from everything_app.realtime.routes import router

feature = Feature("realtime", routers=[router])
