from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .support import Backend, running_backend


@pytest.fixture(params=["openai", "anthropic"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """Each provider against its stand-in: tests using this run once per protocol."""
    async with running_backend(request.param) as running:
        yield running


@pytest.fixture
async def openai_backend() -> AsyncIterator[Backend]:
    async with running_backend("openai") as running:
        yield running


@pytest.fixture
async def anthropic_backend() -> AsyncIterator[Backend]:
    async with running_backend("anthropic") as running:
        yield running
