"""Apps with the tests' own job kinds, and waiting on a job's state (a condition polled
with a deadline, never a sleep)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from pydantic import SecretStr

from everything_app.app import create_app
from everything_app.core.features import Feature
from everything_app.settings import Settings
from tests.conftest import (
    REDIS_URL,
    _redis_reachable,
    asgi_client,
    make_settings,
    require_service,
    sign_up,
    truncate_all,
)
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

    def settings(self, **overrides: Any) -> Settings:
        return make_settings(self.database_url, self.tmp_path, **{**FAST, **overrides})

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


# --- engines ------------------------------------------------------------------------------

AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


async def _amqp_reachable() -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", 5672), 2)
    except OSError:
        return False
    writer.close()
    return True


async def _drop_engine_state(overrides: dict[str, Any]) -> None:
    """What a test's queue left in the machine's Redis or RabbitMQ."""
    url: str = overrides.get("jobs_broker_url", "")
    name = f"{overrides['redis_prefix']}.jobs"
    if url.startswith("redis"):
        client = aioredis.from_url(url)
        try:
            await client.delete(name, f"autoclaim:{name}:{name}")
        finally:
            await client.aclose()
    elif url.startswith("amqp"):
        import aio_pika

        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            for queue in (name, f"{name}.dead"):
                await channel.queue_delete(queue)
            await channel.exchange_delete(name)


async def engine_settings(kind: str) -> dict[str, Any]:
    prefix = f"t{uuid.uuid4().hex[:12]}"
    if kind == "memory":
        return {"jobs_broker_url": "memory"}
    if kind == "redis":
        require_service(await _redis_reachable(), f"Redis is not reachable at {REDIS_URL}")
        return {"jobs_broker_url": REDIS_URL, "redis_url": REDIS_URL, "redis_prefix": prefix}
    require_service(await _amqp_reachable(), "RabbitMQ is not reachable on 5672")
    return {"jobs_broker_url": AMQP_URL, "redis_prefix": prefix}


@pytest.fixture(params=["memory", "redis"])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    """Settings of the queue engine a test runs on: embedded, or a Redis stream."""
    overrides = await engine_settings(request.param)
    yield overrides
    if request.param != "memory":
        await _drop_engine_state(overrides)


# --- worker processes ---------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
_ENV_FIELDS = (
    "database_url",
    "migration_database_url",
    "secret_key",
    "base_url",
    "data_dir",
    "redis_url",
    "redis_prefix",
    "jobs_broker_url",
    "jobs_concurrency",
    *FAST,
)


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JOBS_", "REDIS_", "DATABASE_", "MIGRATION_"))
    }
    for name in _ENV_FIELDS:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is not None:
            env[name.upper()] = str(value)
    env.update(AUTO_MIGRATE="false", LOG_JSON="true", LOG_LEVEL="INFO")
    env["PYTHONPATH"] = f"{ROOT / 'src'}{os.pathsep}{ROOT}"
    env.update(extra)
    return env


class WorkerProcess:
    """`python -m tests.jobs.worker_main`: a real worker in a process of its own."""

    def __init__(
        self, settings: Settings, log: Path, *, command: tuple[str, ...] = (), **extra: str
    ) -> None:
        self.settings = settings
        self.log = log
        self.extra = extra
        self.command = command or ("-m", "tests.jobs.worker_main")
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> WorkerProcess:
        output = self.log.open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *self.command,
                cwd=ROOT,
                env=worker_env(self.settings, **self.extra),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        finally:
            output.close()
        await wait_for(self._ready, what=f"worker started (see {self.log})")
        return self

    async def _ready(self) -> bool:
        assert self.process is not None
        if self.process.returncode is not None:
            raise AssertionError(f"worker exited {self.process.returncode}: {self.log.read_text()}")
        return b'"jobs_started"' in self.log.read_bytes()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def terminate(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(DEADLINE):
            return await self.process.wait()


@pytest.fixture
async def workers(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[WorkerProcess]]]:
    started: list[WorkerProcess] = []

    async def start(
        settings: Settings, *, command: tuple[str, ...] = (), **extra: str
    ) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(settings, log, command=command, **extra)
        started.append(worker)
        return await worker.start()

    yield start
    for worker in started:
        if worker.process is not None and worker.process.returncode is None:
            worker.process.kill()
            await worker.process.wait()
