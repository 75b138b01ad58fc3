"""Servers of a test's own, for fault tests that stop or restart them: a PostgreSQL cluster
and a redis-server on free ports, so no other test (or the machine's own services) notices.

The benchmarks import this module too (`bench/pg_restart.py`), so it needs no pytest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

REDIS_SERVER = shutil.which("redis-server")


def _postgres_bin() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, else Debian's versioned directory."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return candidates[0].parent if candidates else None


POSTGRES_BIN = _postgres_bin()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Only bounds a broken build: a server starting takes seconds when parallel tests load the
# machine.
START_TIMEOUT = 120.0


async def wait_for_port(port: int, process: asyncio.subprocess.Process | None = None) -> None:
    """Until something accepts connections on `port` (a process starting, not a race). Fails
    at once if `process` exits first."""
    async with asyncio.timeout(START_TIMEOUT):
        while True:
            if process is not None and process.returncode is not None:
                raise RuntimeError(f"exited with {process.returncode} before listening on {port}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            return


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory, on a free loopback port.

    PostgreSQL refuses to run as root, so as root every command runs as the `postgres`
    system user (which owns the directory)."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        """The superuser's URL for the `postgres` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _command(self, program: str, *args: str) -> list[str]:
        assert POSTGRES_BIN is not None
        command = [str(POSTGRES_BIN / program), *args]
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def _pg_ctl(self, action: str, *args: str) -> list[str]:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        return self._command(
            "pg_ctl", action, "-D", str(self.directory / "data"), "-w", "-t", "60",
            "-l", str(self.directory / "server.log"), "-o", options, *args,
        )  # fmt: skip

    async def create_database(self, name: str) -> str:
        """A new database on the cluster; the superuser's URL for it."""
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url.rsplit("/", 1)[0] + "/" + name

    async def _run(self, command: list[str]) -> None:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, stderr = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {stderr.decode(errors='replace')}")

    async def start(self) -> None:
        await self._run(self._pg_ctl("start"))

    async def stop(self, mode: str = "fast") -> None:
        """`fast` closes every session and shuts down cleanly; `immediate` is a crash (the
        next start replays the WAL)."""
        await self._run(self._pg_ctl("stop", "-m", mode))

    async def restart(self, mode: str = "fast") -> None:
        await self.stop(mode)
        await self.start()


def postgres_available() -> bool:
    return POSTGRES_BIN is not None and (os.geteuid() != 0 or shutil.which("runuser") is not None)


@asynccontextmanager
async def private_postgres() -> AsyncIterator[PrivatePostgres]:
    """A fresh cluster (trust authentication, superuser `postgres`), removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="ea-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = PrivatePostgres(directory, free_port())
    try:
        await cluster._run(
            cluster._command(
                "initdb", "-D", str(directory / "data"), "-U", "postgres",
                "-A", "trust", "--no-sync", "-E", "UTF8",
            )
        )  # fmt: skip
        await cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError):  # never started, or already stopped
            await cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


@asynccontextmanager
async def private_redis(
    port: int | None = None,
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """A redis-server keeping nothing on disk, on `port` or a free one; its URL and process
    (to kill it). Started again on the same port, it plays the same Redis coming back."""
    assert REDIS_SERVER is not None
    port = port or free_port()
    process = await asyncio.create_subprocess_exec(
        REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await wait_for_port(port, process)
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
