"""Apps with the tests' own job kinds, and waiting on a job's state (a condition polled
with a deadline, never a sleep)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from everything_app.app import create_app
from everything_app.core.features import Feature
from tests.conftest import asgi_client, make_settings, sign_up, truncate_all
from tests.jobs.kinds import extra_feature

# Bounds a broken build only: jobs start in milliseconds, a worker process in a second or two.
DEADLINE = 60.0
# Fast engine loops for tests: the scheduler looks every 50 ms, leases last 2 s.
FAST = {
    "jobs_poll_seconds": 0.05,
    "jobs_lease_seconds": 2.0,
    "jobs_retry_base_seconds": 0.2,
    "jobs_retry_max_seconds": 1.0,
    "jobs_redispatch_seconds": 5.0,
    "jobs_shutdown_grace": 5.0,
}


async def wait_for(
    condition: Callable[[], Awaitable[Any]], *, within: float = DEADLINE, what: str = ""
) -> Any:
    """Until `condition()` returns something truthy; that value."""
    async with asyncio.timeout(within):
        while True:
            value = await condition()
            if value:
                return value
            await asyncio.sleep(0.02)
    raise AssertionError(what)  # pragma: no cover


async def job_in(
    client: httpx.AsyncClient, job_id: str, *statuses: str, within: float = DEADLINE
) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        response = await client.get(f"/api/jobs/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["status"] in statuses else None

    found: dict[str, Any] = await wait_for(check, within=within, what=f"job {statuses}")
    return found


class JobsApps:
    def __init__(self, stack: AsyncExitStack, database_url: str, tmp_path: Path) -> None:
        self.stack = stack
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.started: list[FastAPI] = []
        self._stacks: dict[int, AsyncExitStack] = {}

    async def start(
        self,
        *,
        features: tuple[Feature, ...] | None = None,
        run_jobs: bool | None = None,
        fresh: bool | None = None,
        **overrides: Any,
    ) -> FastAPI:
        settings = make_settings(self.database_url, self.tmp_path, **{**FAST, **overrides})
        app = create_app(
            settings,
            features=features if features is not None else (extra_feature(),),
            run_jobs=run_jobs,
        )
        own = AsyncExitStack()
        await own.enter_async_context(app.router.lifespan_context(app))
        self.stack.push_async_callback(own.aclose)
        self._stacks[id(app)] = own
        if fresh if fresh is not None else not self.started:
            await truncate_all(app)
        self.started.append(app)
        return app

    async def stop(self, app: FastAPI) -> None:
        """Stop one app (its lifespan's end: the jobs runtime's graceful stop)."""
        await self._stacks[id(app)].aclose()

    def client(self, app: FastAPI) -> httpx.AsyncClient:
        client = asgi_client(app)
        self.stack.push_async_callback(client.aclose)
        return client

    async def user(self, app: FastAPI) -> httpx.AsyncClient:
        client = self.client(app)
        await sign_up(client)
        return client


@pytest.fixture
async def jobs_apps(database_url: str, tmp_path: Path) -> AsyncIterator[JobsApps]:
    async with AsyncExitStack() as stack:
        yield JobsApps(stack, database_url, tmp_path)


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    path = tmp_path / "gate"
    path.mkdir()
    return path
