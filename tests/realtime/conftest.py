"""Fixtures: the app on real uvicorn servers, one or two instances sharing a database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest

from tests.conftest import AppWith
from tests.realtime.support import Instance, serve_instance

# No periodic re-check of live credentials unless a test asks for one: a revocation must close
# its socket through its change event, and a re-check racing that event (it finds the row gone
# first on a loaded machine) would close it for another reason. Tests of the re-check call
# `hub.revalidate()` or set a short REALTIME_REVALIDATE_SECONDS themselves; tests wait on
# messages, never on the clock.
FAST = {
    "realtime_revalidate_seconds": 3600.0,
    "realtime_heartbeat_seconds": 30.0,
    "rate_limit_key_create_user": "100000/hour",
}

InstanceFactory = Callable[..., Awaitable[Instance]]


@pytest.fixture
async def make_instance(app_with: AppWith) -> AsyncIterator[InstanceFactory]:
    """Start app instances on the test's database (`app_with`: the first empties it)."""
    async with AsyncExitStack() as stack:

        async def factory(**overrides: Any) -> Instance:
            return await serve_instance(stack, (await app_with(**{**FAST, **overrides})).app)

        yield factory


@pytest.fixture
async def instance(make_instance: InstanceFactory) -> Instance:
    return await make_instance()
