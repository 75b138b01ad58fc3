"""Planner fixtures: a fixed clock for the app, and a helper to create rows over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from everything_app.core.clock import current_time

PARIS = ZoneInfo("Europe/Paris")
# A Wednesday morning in Paris (UTC+1).
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=PARIS)


@pytest.fixture
def fixed_clock(app: FastAPI) -> Iterator[datetime]:
    """The planner's clock stands still at NOW."""

    async def now() -> datetime:
        return NOW

    app.dependency_overrides[current_time] = now
    yield NOW
    app.dependency_overrides.pop(current_time, None)


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def local(text: str) -> str:
    """A Paris wall-clock time as the ISO string with its offset."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).isoformat()
