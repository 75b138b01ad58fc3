"""Benchmark: background jobs, on a Redis stream with worker processes and on the embedded
queue inside the server process, against calling the handler inline.

For each engine and each number of workers (job slots: 1, 4, 16), N jobs of one kind are
enqueued (each in a unit of work of its own, 16 enqueuers at once, as requests would), and
the run ends when every job has finished. Prints jobs/s (from the first enqueue to the last
finish) and the enqueue-to-start latency p50/p99 (`started_at - run_at` of each row). The
handler awaits `--work-ms` (I/O a job would wait on) and returns.

- inline: the handler called directly, W at once: the floor the queue adds to.
- embedded: `JOBS_BROKER_URL=memory`, jobs run in the enqueuing process (as in `serve`),
  JOBS_CONCURRENCY=W.
- redis: a Redis stream; the enqueuing process runs no jobs; min(W, 4) worker processes
  (`create_app(..., run_jobs=True)` under `run_worker`, what `everything-app worker` runs)
  share W slots.

On a fresh PostgreSQL database (BENCH_POSTGRES_URL), Redis on REDIS_URL (default
127.0.0.1:6379/14). Everything shares the machine, so the figures are a floor.

    .venv/bin/python bench/jobs.py [--jobs 500] [--work-ms 10] [--workers 1,4,16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, select
from support import drop_database, fresh_database

from everything_app.app import create_app, run_worker
from everything_app.core import migrations
from everything_app.core.db import unit_of_work
from everything_app.core.features import Feature, Registry
from everything_app.core.jobs import Job, JobContext, JobKind, JobKinds, enqueue
from everything_app.settings import Settings

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
ENQUEUERS = 16


class WorkArgs(BaseModel):
    ms: float = 10.0


async def work(context: JobContext, args: WorkArgs) -> None:
    await asyncio.sleep(args.ms / 1000)


def bench_feature() -> Feature:
    def register(registry: Registry) -> None:
        registry[JobKinds].add(JobKind("bench.work", WorkArgs, work, max_attempts=1))

    return Feature("bench_jobs", register=register)


def settings_for(url: str, data_dir: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "data_dir": data_dir,
        "secret_key": "bench-" + "x" * 40,
        "auto_migrate": False,
        "log_level": "WARNING",
        "redis_url": None,
        "jobs_poll_seconds": 0.2,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def enqueue_all(app: Any, jobs: int, work_ms: float) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(jobs):
        queue.put_nowait(i)

    async def enqueuer() -> None:
        while not queue.empty():
            queue.get_nowait()
            async with unit_of_work(app.state.sessionmaker, write=True) as db:
                await enqueue(db, "bench.work", WorkArgs(ms=work_ms), user_id=None)

    await asyncio.gather(*(enqueuer() for _ in range(ENQUEUERS)))


ENQUEUE_RATES: list[float] = []


async def measure(app: Any, jobs: int, work_ms: float) -> tuple[float, list[float]]:
    started = time.perf_counter()
    await enqueue_all(app, jobs, work_ms)
    ENQUEUE_RATES.append(jobs / (time.perf_counter() - started))
    async with AsyncExitStack() as stack:
        db = await stack.enter_async_context(unit_of_work(app.state.sessionmaker, admin=True))
        while True:
            done = await db.scalar(
                select(func.count()).where(Job.kind == "bench.work", Job.finished_at.is_not(None))
            )
            await db.rollback()
            if (done or 0) >= jobs:
                break
            await asyncio.sleep(0.05)
        rows = (
            await db.execute(
                select(Job.created_at, Job.run_at, Job.started_at, Job.finished_at).where(
                    Job.kind == "bench.work"
                )
            )
        ).all()
        await db.execute(delete(Job))
        await db.commit()
    first = min(r.created_at for r in rows)
    last = max(r.finished_at for r in rows)
    waits = [(r.started_at - r.run_at).total_seconds() * 1000 for r in rows]
    return jobs / (last - first).total_seconds(), waits


async def inline(jobs: int, work_ms: float, workers: int) -> float:
    slots = asyncio.Semaphore(workers)

    async def one() -> None:
        async with slots:
            await work(None, WorkArgs(ms=work_ms))  # type: ignore[arg-type]

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(jobs)))
    return jobs / (time.perf_counter() - started)


def report(engine: str, workers: int, rate: float, waits: list[float] | None) -> None:
    line = f"{engine:9} workers={workers:<3} {rate:8.1f} jobs/s"
    if waits and ENQUEUE_RATES:
        line += f"  (enqueued at {ENQUEUE_RATES[-1]:6.1f}/s)"
    if waits:
        line += (
            f"   enqueue->start p50 {percentile(waits, 0.5):7.1f} ms"
            f"  p99 {percentile(waits, 0.99):7.1f} ms"
        )
    print(line, flush=True)


async def run_embedded(url: str, data_dir: str, jobs: int, work_ms: float, workers: int) -> None:
    settings = settings_for(url, data_dir, jobs_broker_url="memory", jobs_concurrency=workers)
    app = create_app(settings, features=(bench_feature(),), run_jobs=True)
    async with app.router.lifespan_context(app):
        rate, waits = await measure(app, jobs, work_ms)
    report("embedded", workers, rate, waits)


async def run_redis(url: str, data_dir: str, jobs: int, work_ms: float, workers: int) -> None:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    processes = min(workers, 4)
    per_process = max(1, workers // processes)
    common = {"jobs_broker_url": REDIS_URL, "redis_url": REDIS_URL, "redis_prefix": prefix}
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DATA_DIR": data_dir,
        "SECRET_KEY": "bench-" + "x" * 40,
        "AUTO_MIGRATE": "false",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": REDIS_URL,
        "JOBS_BROKER_URL": REDIS_URL,
        "REDIS_PREFIX": prefix,
        "JOBS_CONCURRENCY": str(per_process),
        "JOBS_POLL_SECONDS": "0.2",
    }
    command = [sys.executable, __file__, "--worker"]
    children = [
        subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)  # noqa: ASYNC220
        for _ in range(processes)
    ]
    app = create_app(
        settings_for(url, data_dir, **common), features=(bench_feature(),), run_jobs=False
    )
    try:
        async with app.router.lifespan_context(app):
            await warm_up(app, processes)
            rate, waits = await measure(app, jobs, work_ms)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=60)
        import redis.asyncio as aioredis

        client = aioredis.from_url(REDIS_URL)
        await client.delete(f"{prefix}.jobs")
        await client.aclose()
    report("redis", workers, rate, waits)


async def warm_up(app: Any, processes: int) -> None:
    """Until the workers take jobs (they are starting): a few jobs, run and removed."""
    await measure(app, processes * 2, 0)


def worker_main() -> None:
    settings = Settings()
    asyncio.run(run_worker(create_app(settings, features=(bench_feature(),), run_jobs=True)))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--work-ms", type=float, default=10.0)
    parser.add_argument("--workers", default="1,4,16")
    parser.add_argument("--engines", default="inline,embedded,redis")
    args = parser.parse_args()
    counts = [int(x) for x in args.workers.split(",")]
    engines = args.engines.split(",")
    url = await fresh_database()
    print(f"{args.jobs} jobs of {args.work_ms} ms each, PostgreSQL, {os.cpu_count()} cores")
    try:
        owner = Settings(_env_file=None, database_url=url)
        await asyncio.to_thread(migrations.upgrade, owner)
        with tempfile.TemporaryDirectory() as data_dir:
            for workers in counts:
                if "inline" in engines:
                    report("inline", workers, await inline(args.jobs, args.work_ms, workers), None)
                if "embedded" in engines:
                    await run_embedded(url, data_dir, args.jobs, args.work_ms, workers)
                if "redis" in engines:
                    await run_redis(url, data_dir, args.jobs, args.work_ms, workers)
    finally:
        await drop_database(url)


if __name__ == "__main__":
    if "--worker" in sys.argv:
        sys.path.insert(0, str(Path(__file__).parent))
        worker_main()
    else:
        asyncio.run(main())
