"""Fixtures: the app on real uvicorn servers, one or two instances sharing a database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.realtime.support import Instance, start_instance

# Short intervals so revocation and heartbeats are observable quickly; tests still wait on
# messages, never on the clock.
FAST = {
    "realtime_revalidate_seconds": 0.2,
    "realtime_heartbeat_seconds": 30.0,
    "rate_limit_key_create_user": "100000/hour",
}

InstanceFactory = Callable[..., Awaitable[Instance]]


@pytest.fixture
async def make_instance(database_url: str, tmp_path: Path) -> AsyncIterator[InstanceFactory]:
    """Start app instances on `database_url`: the first empties the database."""
    async with AsyncExitStack() as stack:
        started: list[Instance] = []

        async def factory(**overrides: Any) -> Instance:
            settings = make_settings(database_url, tmp_path, **{**FAST, **overrides})
            instance = await start_instance(stack, settings, fresh=not started)
            started.append(instance)
            return instance

        yield factory


@pytest.fixture
async def instance(make_instance: InstanceFactory) -> Instance:
    return await make_instance()
