"""Fixtures of the browser tests (see tests/webapp/harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from tests.webapp.harness import REAL_BUILD, Server, require_browser, require_build, serve_webapp
from tests.webapp.standin import write_standin_build

ServeWebapp = Callable[..., Awaitable[Server]]


@pytest.fixture
async def start_webapp(database_url: str, tmp_path: Path) -> AsyncIterator[ServeWebapp]:
    """Start `serve` with settings of the test's own: `await start_webapp(RATE_LIMIT_…="…")`;
    `build=` another build directory (default: the real build). Stopped when the test ends.
    Skips (CI=true: fails) without node, Chromium, tests/js's packages, or the build."""
    require_browser()
    async with AsyncExitStack() as stack:

        async def start(*, build: Path = REAL_BUILD, **settings: str) -> Server:
            require_build(build)
            return await stack.enter_async_context(
                serve_webapp(database_url, tmp_path, build, **settings)
            )

        yield start


@pytest.fixture
async def webapp_server(start_webapp: ServeWebapp) -> Server:
    """`serve` with the real build (src/everything_app/webapp/static), on SQLite and on
    PostgreSQL."""
    return await start_webapp()


@pytest.fixture
async def standin_server(start_webapp: ServeWebapp, tmp_path: Path) -> Server:
    """`serve` with the stand-in build (tests/webapp/standin.py): the harness's own checks."""
    return await start_webapp(build=write_standin_build(tmp_path / "standin-build"))
