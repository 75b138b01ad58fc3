"""Typed dependencies for the app-wide objects the lifespan owns.

All are `async def`: FastAPI runs a plain `def` dependency in a worker thread, which costs
more than the work itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from everything_app.core.ratelimit import RateLimiter
from everything_app.settings import Settings


def app_settings(connection: HTTPConnection) -> Settings:
    """The app's settings, read directly (hot paths: a dependency costs more than this)."""
    settings: Settings = connection.app.state.settings
    return settings


async def _settings(request: Request) -> Settings:
    return app_settings(request)


def app_limiter(connection: HTTPConnection) -> RateLimiter:
    """The app's rate limiter, read directly (as `app_settings`)."""
    limiter: RateLimiter = connection.app.state.limiter
    return limiter


async def _limiter(request: Request) -> RateLimiter:
    return app_limiter(request)


async def _client_ip(request: Request) -> str:
    ip: str = request.state.client_ip
    return ip


SettingsDep = Annotated[Settings, Depends(_settings)]
LimiterDep = Annotated[RateLimiter, Depends(_limiter)]
ClientIP = Annotated[str, Depends(_client_ip)]
