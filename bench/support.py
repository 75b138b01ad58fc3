"""What every benchmark here needs: a throwaway PostgreSQL database, `everything-app serve`
as a subprocess, waiting until it answers, and percentiles.

Benchmarks run as scripts (`python bench/x.py`), so this module is imported as `support`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def fresh_database() -> str:
    """A new, empty PostgreSQL database; returns its URL."""
    name = f"ea_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def drop_database(url: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


def start_server(
    port: int, env: dict[str, str], *, host: str = "127.0.0.1", workers: int = 1
) -> subprocess.Popen[bytes]:
    """`everything-app serve` with `env` over ours (quiet logs unless `env` says otherwise)."""
    cmd = [
        sys.executable, "-m", "everything_app", "serve",
        "--host", host, "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip
    return start_process(cmd, {"LOG_LEVEL": "WARNING", **env})


def start_process(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A long-running helper process (server, stand-in), stdout discarded."""
    return subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    """Interrupt every process (servers shut down gracefully on SIGINT), then wait for each."""
    for process in processes:
        process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


async def wait_ready(url: str, *, any_answer: bool = False, attempts: int = 300) -> None:
    """Until `url` answers 200 (or anything, with `any_answer`): the process is up."""
    async with httpx.AsyncClient() as client:
        for _ in range(attempts):
            try:
                response = await client.get(url)
            except httpx.TransportError:
                await asyncio.sleep(0.1)
                continue
            if any_answer or response.status_code == 200:
                return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def pct(values: list[float], q: float) -> float:
    """The q-quantile of `values` (seconds) in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def sign_up(client: httpx.AsyncClient) -> str:
    """A new account on the server `client` points at; its bearer token."""
    response = await client.post(
        "/api/auth/sign-up/email",
        json={
            "email": f"bench-{uuid.uuid4().hex[:10]}@example.com",
            "password": "bench password",
            "name": "bench",
        },
    )
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


@dataclass
class Stats:
    """Latencies (seconds) of successful requests and a count of failed ones."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def report(self, name: str, seconds: float) -> str:
        if not self.latencies:
            return f"{name}: no successful requests ({self.errors} errors)"
        rate = len(self.latencies) / seconds
        return (
            f"{name}: {rate:,.0f} req/s, p50 {pct(self.latencies, 0.5):.2f} ms, "
            f"p99 {pct(self.latencies, 0.99):.2f} ms "
            f"({len(self.latencies)} ok, {self.errors} errors)"
        )


async def request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes]:
    """One raw HTTP/1.1 request on a kept-alive connection: its status and body (the load
    generator stays cheap, so the server is what gets measured)."""
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return status, await reader.readexactly(length)
