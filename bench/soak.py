"""Soak: a mixed workload for a set time against two app instances on PostgreSQL and Redis.

Two `everything-app serve` processes share one PostgreSQL database and one Redis (rate limits
and realtime fan-out), with an OpenAI stand-in as their model. For `--seconds`:
- session checks (`GET /api/auth/get-session`) spread over both instances;
- CRUD on tasks (create, update, list, delete) on instance A;
- chat streams (`POST /api/chat`, 20 tokens 10 ms apart) on both instances;
- live-query subscribers to `tasks.list` on instance B, which hear A's writes.
Printed: throughput, p50/p99 and errors per kind, notifications received, and each server's
resident memory at the start and the end (growth under a steady load is a leak's signature).

    .venv/bin/python bench/soak.py [--seconds 60] [--subscribers 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
import websockets
from support import (
    drop_database,
    fresh_database,
    pct,
    sign_up,
    start_process,
    start_server,
    stop_processes,
    wait_ready,
)

HOST = "127.0.0.1"
PORTS = (8791, 8792)
STANDIN_PORT = 8790
STANDIN_KEY = "sk-soak"
REDIS_URL = "redis://127.0.0.1:6379/0"


class Tally:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)

    async def timed(self, kind: str, call: object) -> httpx.Response | None:
        assert asyncio.iscoroutine(call)
        started = time.perf_counter()
        try:
            response: httpx.Response = await call
        except httpx.HTTPError:
            self.errors[kind] += 1
            return None
        if response.status_code >= 400:
            self.errors[kind] += 1
            return response
        self.latencies[kind].append(time.perf_counter() - started)
        return response

    def report(self, seconds: float) -> None:
        for kind in sorted(set(self.latencies) | set(self.errors)):
            done = self.latencies[kind]
            if not done:
                print(f"  {kind:<22} no successes, {self.errors[kind]} errors")
                continue
            p50 = statistics.median(done) * 1000
            print(
                f"  {kind:<22} {len(done) / seconds:8.1f} /s  p50 {p50:7.1f} ms"
                f"  p99 {pct(done, 0.99):7.1f} ms  errors {self.errors[kind]}"
            )


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def session_worker(clients: list[httpx.AsyncClient], tally: Tally, stop: float) -> None:
    turn = 0
    while time.perf_counter() < stop:
        turn += 1
        await tally.timed("get-session", clients[turn % 2].get("/api/auth/get-session"))


async def crud_worker(client: httpx.AsyncClient, tally: Tally, stop: float) -> None:
    while time.perf_counter() < stop:
        created = await tally.timed(
            "task create", client.post("/api/tasks", json={"title": "soak"})
        )
        if created is None or created.status_code != 201:
            continue
        task_id = created.json()["id"]
        await tally.timed(
            "task update", client.patch(f"/api/tasks/{task_id}", json={"is_complete": True})
        )
        await tally.timed("task list", client.get("/api/tasks", params={"limit": 20}))
        await tally.timed("task delete", client.delete(f"/api/tasks/{task_id}"))


async def chat_worker(client: httpx.AsyncClient, tally: Tally, stop: float) -> None:
    prompt = "[[slow:10]] " + " ".join(f"w{i}" for i in range(18))
    while time.perf_counter() < stop:
        await tally.timed(
            "chat stream",
            client.post("/api/chat", json={"content": prompt, "model": "gpt-4o-mini"}),
        )


async def subscriber(url: str, token: str, received: list[int], stop: float) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(url, additional_headers=headers, max_size=2**22) as ws:
        await ws.send(
            json.dumps({"type": "subscribe", "id": "t", "query": "tasks.list", "args": {}})
        )
        while time.perf_counter() < stop:
            try:
                message = json.loads(
                    await asyncio.wait_for(ws.recv(), timeout=max(0.1, stop - time.perf_counter()))
                )
            except TimeoutError:
                break
            if message.get("type") == "result":
                received[0] += 1
                if message.get("version", 0) > 1:
                    received[1] += 1


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--crud", type=int, default=8)
    parser.add_argument("--chats", type=int, default=4)
    args = parser.parse_args()

    database_url = await fresh_database()
    prefix = f"soak-{uuid.uuid4().hex[:6]}"
    processes = []
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            standin = [
                sys.executable, "-m", "everything_app.testing.openai_server",
                "--port", str(STANDIN_PORT), "--api-key", STANDIN_KEY,
            ]  # fmt: skip
            processes.append(start_process(standin))
            env = {
                "DATABASE_URL": database_url,
                "DATA_DIR": data_dir,
                "REDIS_URL": REDIS_URL,
                "REDIS_PREFIX": prefix,
                "SECRET_KEY": "soak-secret-" + "x" * 40,  # shared: either instance reads cookies
                "OPENAI_API_KEY": STANDIN_KEY,
                "OPENAI_BASE_URL": f"http://{HOST}:{STANDIN_PORT}/v1",
                "RATE_LIMIT_SIGN_UP_IP": "1000000/minute",
                "RATE_LIMIT_CHAT_USER": "1000000/minute",
                "CHAT_MAX_CONCURRENT_STREAMS": "1000",
            }
            servers = [start_server(PORTS[0], env, host=HOST)]
            await wait_ready(f"http://{HOST}:{PORTS[0]}/readyz")  # the first one migrates
            servers.append(start_server(PORTS[1], {**env, "AUTO_MIGRATE": "false"}, host=HOST))
            processes += servers
            await wait_ready(f"http://{HOST}:{PORTS[1]}/readyz")
            await wait_ready(f"http://{HOST}:{STANDIN_PORT}/v1/models", any_answer=True)

            bases = [f"http://{HOST}:{port}" for port in PORTS]
            async with httpx.AsyncClient(base_url=bases[0]) as bootstrap:
                token = await sign_up(bootstrap)
            auth = {"Authorization": f"Bearer {token}"}
            clients = [httpx.AsyncClient(base_url=b, headers=auth, timeout=60) for b in bases]
            rss_start = [rss_mib(p.pid) for p in servers]
            tally = Tally()
            received = [0, 0]
            stop = time.perf_counter() + args.seconds
            ws_url = f"ws://{HOST}:{PORTS[1]}/api/realtime"
            jobs = [subscriber(ws_url, token, received, stop) for _ in range(args.subscribers)]
            jobs += [session_worker(clients, tally, stop) for _ in range(args.sessions)]
            jobs += [crud_worker(clients[0], tally, stop) for _ in range(args.crud)]
            jobs += [chat_worker(clients[i % 2], tally, stop) for i in range(args.chats)]
            await asyncio.gather(*jobs, return_exceptions=False)
            rss_end = [rss_mib(p.pid) for p in servers]
            for client in clients:
                await client.aclose()

            print(
                f"soak: {args.seconds:.0f} s, two instances on PostgreSQL + Redis, "
                f"{args.sessions} session, {args.crud} CRUD, {args.chats} chat workers, "
                f"{args.subscribers} live subscribers on instance B"
            )
            tally.report(args.seconds)
            print(f"  live results received on B: {received[0]} ({received[1]} after a write on A)")
            for name, start_mib, end_mib in zip("AB", rss_start, rss_end, strict=True):
                print(f"  instance {name} memory: {start_mib:.0f} MiB -> {end_mib:.0f} MiB")
    finally:
        stop_processes(processes)
        await drop_database(database_url)


if __name__ == "__main__":
    asyncio.run(main())
