"""Recovery from a PostgreSQL restart: how long the service is unavailable, and whether any
acknowledged write is lost.

A private PostgreSQL cluster (initdb on a free port, so the machine's own is not touched)
serves two `everything-app serve` instances. Writers create tasks through both; a live
subscriber on instance B watches `tasks.list`. The cluster is then restarted, once cleanly
(`pg_ctl stop -m fast`) and once as a crash (`-m immediate`, WAL replay on start).
Printed per restart: how long PostgreSQL itself was down, the window in which clients saw
failures, the time from PostgreSQL accepting connections to the first acknowledged write
and to the subscriber's resync, the failures by status, and acknowledged writes missing
from the database afterwards (must be 0).

    .venv/bin/python bench/pg_restart.py [--writers 8] [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import websockets
from support import sign_up, start_server, stop_processes, wait_ready

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' private cluster
from tests.private_services import PrivatePostgres, free_port, private_postgres

HOST = "127.0.0.1"


@dataclass
class Request:
    started: float
    ended: float
    status: int  # 0: no HTTP answer at all
    task_id: str | None


@dataclass
class Run:
    requests: list[Request] = field(default_factory=list)
    resyncs: list[float] = field(default_factory=list)
    stop: float = float("inf")


async def writer(client: httpx.AsyncClient, run: Run) -> None:
    while time.perf_counter() < run.stop:
        started = time.perf_counter()
        try:
            response = await client.post("/api/tasks", json={"title": f"w{started}"})
        except httpx.HTTPError:
            run.requests.append(Request(started, time.perf_counter(), 0, None))
            continue
        task_id = response.json()["id"] if response.status_code == 201 else None
        run.requests.append(Request(started, time.perf_counter(), response.status_code, task_id))


async def subscriber(url: str, token: str, run: Run, ready: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(url, additional_headers=headers) as ws:
        message = {"type": "subscribe", "id": "t", "query": "tasks.list", "args": {}}
        await ws.send(json.dumps(message))
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == "result":
                ready.set()
            if frame.get("type") == "resync":
                run.resyncs.append(time.perf_counter())


async def restart_once(
    cluster: PrivatePostgres, clients: list[httpx.AsyncClient], ws_url: str, token: str,
    owner_url: str, mode: str, writers: int, seconds: float,
) -> None:  # fmt: skip
    run = Run()
    ready = asyncio.Event()
    watching = asyncio.create_task(subscriber(ws_url, token, run, ready))
    await ready.wait()
    jobs = [asyncio.create_task(writer(clients[n % 2], run)) for n in range(writers)]
    await asyncio.sleep(seconds)  # steady load before the restart
    down = time.perf_counter()
    await cluster.stop(mode)
    stopped = time.perf_counter()
    await cluster.start()
    up = time.perf_counter()
    run.stop = up + seconds
    await asyncio.gather(*jobs)
    watching.cancel()
    with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
        await watching

    failed = [r for r in run.requests if r.status != 201]
    acknowledged = {r.task_id for r in run.requests if r.status == 201}
    conn = await asyncpg.connect(owner_url)
    try:
        stored = {str(row["id"]) for row in await conn.fetch("SELECT id FROM tasks")}
    finally:
        await conn.close()
    last_failure = max((r.ended for r in failed), default=down)
    recovered = min(r.ended for r in run.requests if r.status == 201 and r.ended > last_failure)
    resync = min((t for t in run.resyncs if t >= down), default=None)
    before = [r for r in run.requests if r.ended < down and r.status == 201]
    print(f"restart ({mode}), {writers} writers over two instances:")
    print(f"  pg_ctl stop + start: {(stopped - down) * 1000:.0f} + {(up - stopped) * 1000:.0f} ms")
    if failed:
        window = last_failure - min(r.started for r in failed)
        print(f"  clients saw failures for {window * 1000:.0f} ms: {len(failed)} requests "
              f"{dict(Counter(r.status for r in failed))}")  # fmt: skip
    else:
        print("  no request failed")
    print(f"  restart began -> writes acknowledged again: {(recovered - down) * 1000:.0f} ms")
    if resync is not None:
        print(f"  restart began -> live subscriber resynced: {(resync - down) * 1000:.0f} ms")
    print(f"  writes/s before: {len(before) / seconds:.0f}; acknowledged in all: "
          f"{len(acknowledged)}; missing afterwards: {len(acknowledged - stored)}")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    async with private_postgres() as cluster, AsyncExitStack() as stack:
        owner_url = await cluster.create_database("everything_app")
        ports = (free_port(), free_port())
        data_dir = stack.enter_context(tempfile.TemporaryDirectory())
        processes: list[subprocess.Popen[bytes]] = []
        stack.callback(stop_processes, processes)  # before the data directory goes
        env = {
            "DATABASE_URL": owner_url,  # a superuser: serves as the runtime role
            "DATA_DIR": data_dir,
            "SECRET_KEY": "restart-secret-" + "x" * 40,
            "REALTIME_BROKER": "postgres",
            "LOG_LEVEL": "ERROR",  # not a warning per refused request
        }
        processes.append(start_server(ports[0], env, host=HOST))
        await wait_ready(f"http://{HOST}:{ports[0]}/readyz")  # the first migrates
        processes.append(start_server(ports[1], {**env, "AUTO_MIGRATE": "false"}, host=HOST))
        await wait_ready(f"http://{HOST}:{ports[1]}/readyz")
        bases = [f"http://{HOST}:{port}" for port in ports]
        async with httpx.AsyncClient(base_url=bases[0]) as bootstrap:
            token = await sign_up(bootstrap)
        auth = {"Authorization": f"Bearer {token}"}
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=b, headers=auth, timeout=30))
            for b in bases
        ]
        ws_url = f"ws://{HOST}:{ports[1]}/api/realtime"
        for mode in ("fast", "immediate"):
            await restart_once(
                cluster, clients, ws_url, token, owner_url, mode, args.writers, args.seconds
            )


if __name__ == "__main__":
    asyncio.run(main())
