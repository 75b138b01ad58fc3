"""Typed dependencies for the app-wide objects the lifespan owns.

All are `async def`: FastAPI runs a plain `def` dependency in a worker thread, which costs
more than the work itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from everything_app.core.ratelimit import RateLimiter
from everything_app.settings import Settings


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


async def _client_ip(request: Request) -> str:
    ip: str = request.state.client_ip
    return ip


SettingsDep = Annotated[Settings, Depends(_settings)]
LimiterDep = Annotated[RateLimiter, Depends(_limiter)]
ClientIP = Annotated[str, Depends(_client_ip)]
