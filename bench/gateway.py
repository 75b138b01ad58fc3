"""Benchmark: what `POST /v1/chat/completions` (the OpenAI-compatible gateway) adds.

A model in its own process streams N tokens D ms apart (by default bench/gateway_model.py,
64 tokens 5 ms apart on a fixed schedule; `--upstream standin` uses the project's OpenAI
stand-in). We measure time to first token (TTFT) and the gaps between tokens calling the
model directly, then through the gateway (API-key auth, per-key rate limit, the relay, one
usage row per completion), in alternating rounds at 1, 16 and 128 concurrent streams, and
print both, the difference, and the CPU each process spent per stream: the gateway's beside
the model's own for a direct call.

The client is a minimal HTTP/1.1 reader on asyncio streams (an HTTP library would cost more
CPU than the servers on this 2-core machine). Everything shares the machine, so the figures
are a floor, not a ceiling.

    .venv/bin/python bench/gateway.py [--delay-ms 5] [--words 64] [--no-usage]
        [--upstream fake|standin] [--database-url URL|sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import httpx

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
HOST = "127.0.0.1"
APP_PORT, STANDIN_PORT = 8795, 8794
STANDIN_KEY = "sk-bench"

Stream = Callable[[], Awaitable[tuple[float, list[float]]]]


class Failed(Exception):
    """A stream that produced no token (an error response); counted, not measured."""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def stream_once(
    port: int, body: dict[str, object], headers: dict[str, str]
) -> tuple[float, list[float]]:
    """POST a streamed completion and read it; returns TTFT and the gaps between tokens."""
    reader, writer = await asyncio.open_connection(HOST, port)
    payload = json.dumps(body).encode()
    head = [
        "POST /v1/chat/completions HTTP/1.1",
        f"Host: {HOST}:{port}",
        "Content-Type: application/json",
        *(f"{k}: {v}" for k, v in headers.items()),
        f"Content-Length: {len(payload)}",
        "Connection: close",
    ]
    started = time.perf_counter()
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
    token_times: list[float] = []
    buffer = b""
    while data := await reader.read(65536):
        now = time.perf_counter()
        buffer += data
        *events, buffer = buffer.split(b"\n\n")
        # A token is a chunk with non-empty content (both servers open with `"content": ""`).
        token_times += [now for e in events if b'"content"' in e and not _empty_content(e)]
    writer.close()
    if not token_times:
        raise Failed(buffer[-300:].decode(errors="replace"))
    gaps = [b - a for a, b in itertools.pairwise(token_times)]
    return token_times[0] - started, gaps


def _empty_content(event: bytes) -> bool:
    return b'"content":""' in event or b'"content": ""' in event


@dataclass
class Sample:
    ttfts: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def measure(concurrency: int, run: Stream, rounds: int) -> Sample:
    sample = Sample()
    for _ in range(rounds):
        for result in await asyncio.gather(
            *(run() for _ in range(concurrency)), return_exceptions=True
        ):
            if isinstance(result, Failed):
                sample.failures.append(str(result))
            elif isinstance(result, BaseException):
                raise result
            else:
                sample.ttfts.append(result[0])
                sample.gaps += result[1]
    return sample


def line(name: str, sample: Sample) -> str:
    failed = f", {len(sample.failures)} failed" if sample.failures else ""
    return (
        f"  {name:<22} TTFT p50 {pct(sample.ttfts, 0.5):7.1f} ms  "
        f"p99 {pct(sample.ttfts, 0.99):7.1f} ms | token gap p50 {pct(sample.gaps, 0.5):6.1f} ms  "
        f"p99 {pct(sample.gaps, 0.99):6.1f} ms{failed}"
    )


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL)


async def wait_ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def make_database(requested: str | None) -> tuple[str, str | None]:
    """The app's DATABASE_URL, and the name of a database to drop afterwards (if we made it)."""
    if requested == "sqlite":
        return "", None  # the embedded default in DATA_DIR
    if requested:
        return requested, None
    name = f"ea_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name, name


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def api_key() -> str:
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{APP_PORT}") as client:
        signed = await client.post(
            "/api/auth/sign-up/email",
            json={
                "email": f"bench-{uuid.uuid4().hex[:6]}@example.com",
                "password": "bench password",
                "name": "b",
            },
        )
        client.cookies.clear()  # the bearer token authenticates; a cookie would need an Origin
        auth = {"Authorization": f"Bearer {signed.json()['token']}"}
        created = await client.post("/api/keys", json={"name": "bench"}, headers=auth)
    if created.status_code != 201:
        raise RuntimeError(f"could not create a key: {signed.text} {created.text}")
    key: str = created.json()["key"]
    return key


def upstream_command(args: argparse.Namespace) -> list[str]:
    """The model the gateway relays: the bench's fixed-schedule fake (default) or the
    project's OpenAI stand-in (heavier per chunk, so its "direct" CPU is not comparable)."""
    if args.upstream == "fake":
        fake = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gateway_model.py")
        return [sys.executable, fake, "--port", str(STANDIN_PORT),
                "--tokens", str(args.words), "--delay-ms", str(args.delay_ms)]  # fmt: skip
    return [sys.executable, "-m", "everything_app.testing.openai_server",
            "--port", str(STANDIN_PORT), "--api-key", STANDIN_KEY]  # fmt: skip


@dataclass
class Side:
    """One side of the comparison: its streams and the CPU its process spent on them."""

    pid: int
    sample: Sample = field(default_factory=Sample)
    cpu: float = 0.0
    streams: int = 0

    async def round(self, concurrency: int, run: Stream) -> None:
        before = cpu_seconds(self.pid)
        got = await measure(concurrency, run, 1)
        self.cpu += cpu_seconds(self.pid) - before
        self.streams += concurrency
        self.sample.ttfts += got.ttfts
        self.sample.gaps += got.gaps
        self.sample.failures += got.failures

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / max(1, self.streams)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", type=float, default=5)
    parser.add_argument("--words", type=int, default=64, help="tokens per answer")
    parser.add_argument("--concurrency", default="1,16,128")
    parser.add_argument("--streams", type=int, default=96, help="at least this many per level")
    parser.add_argument("--upstream", choices=("fake", "standin"), default="fake")
    parser.add_argument(
        "--no-usage", action="store_true", help="do not ask for stream_options.include_usage"
    )
    parser.add_argument(
        "--database-url", default=None, help="'sqlite' for the embedded default; else PostgreSQL"
    )
    args = parser.parse_args()

    database_url, made = await make_database(args.database_url)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            upstream = start(upstream_command(args), {})
            processes.append(upstream)
            app_env = {
                "DATA_DIR": data_dir,
                "LOG_LEVEL": "WARNING",
                "OPENAI_API_KEY": STANDIN_KEY,
                "OPENAI_BASE_URL": f"http://{HOST}:{STANDIN_PORT}/v1",
                "RATE_LIMIT_GATEWAY_KEY": "1000000/minute",
                "DB_POOL_SIZE": "40",
            }
            if database_url:
                app_env["DATABASE_URL"] = database_url
            app = start(
                [sys.executable, "-m", "everything_app", "serve", "--port", str(APP_PORT)],
                app_env,
            )
            processes.append(app)
            await wait_ready(f"http://{HOST}:{STANDIN_PORT}/v1/models")
            await wait_ready(f"http://{HOST}:{APP_PORT}/healthz")
            key = await api_key()
            if args.upstream == "fake":
                prompt = "Summarize my tasks for this week"
            else:
                words = " ".join(f"w{i}" for i in range(args.words - 1))
                prompt = f"[[slow:{args.delay_ms:g}]] {words}"
            body: dict[str, object] = {
                "model": "gpt-4o-mini",
                "stream": True,
                "messages": [{"role": "user", "content": prompt}],
            }
            if not args.no_usage:
                body["stream_options"] = {"include_usage": True}

            def direct() -> Awaitable[tuple[float, list[float]]]:
                return stream_once(STANDIN_PORT, body, {"Authorization": f"Bearer {STANDIN_KEY}"})

            def gateway() -> Awaitable[tuple[float, list[float]]]:
                return stream_once(APP_PORT, body, {"Authorization": f"Bearer {key}"})

            database = "PostgreSQL" if database_url else "SQLite"
            print(
                f"{args.words} tokens per stream, {args.delay_ms:g} ms apart, upstream "
                f"{args.upstream}, include_usage {not args.no_usage}; app on {database}, one "
                f"worker; {os.cpu_count()} cores shared by upstream, app, database and load "
                "generator"
            )
            # The first calls pay one-off costs (imports, connection set-up, SDK model
            # building); they are shown once, not mixed into the steady-state figures.
            cold = await measure(1, gateway, 1)
            await measure(8, direct, 2)
            await measure(8, gateway, 2)
            print(f"first call through the gateway after start: TTFT {pct(cold.ttfts, 0.5):.0f} ms")
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                rounds = max(3, -(-args.streams // concurrency))
                # Rounds alternate (direct, gateway, direct, …) so that load from elsewhere on
                # the machine falls on both sides alike.
                d, g = Side(upstream.pid), Side(app.pid)
                for _ in range(rounds):
                    await d.round(concurrency, direct)
                    await g.round(concurrency, gateway)
                print(f"{concurrency} concurrent streams ({concurrency * rounds} per side):")
                print(line("upstream directly", d.sample))
                print(line("via /v1 gateway", g.sample))
                print(
                    f"  {'added by the gateway':<22} TTFT p50 "
                    f"{pct(g.sample.ttfts, 0.5) - pct(d.sample.ttfts, 0.5):+7.1f} ms  p99 "
                    f"{pct(g.sample.ttfts, 0.99) - pct(d.sample.ttfts, 0.99):+7.1f} ms | "
                    f"token gap p50 {pct(g.sample.gaps, 0.5) - pct(d.sample.gaps, 0.5):+6.1f} ms"
                    f"  p99 {pct(g.sample.gaps, 0.99) - pct(d.sample.gaps, 0.99):+6.1f} ms"
                )
                print(
                    f"  {'CPU per stream':<22} gateway process {g.cpu_ms:.1f} ms, upstream "
                    f"process (direct call) {d.cpu_ms:.1f} ms: "
                    f"{g.cpu_ms / max(d.cpu_ms, 1e-9):.2f}x"
                )
                for failure in sorted(set(g.sample.failures + d.sample.failures))[:3]:
                    print(f"    failure: {failure!r}")
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        if made:
            await drop_database(made)


if __name__ == "__main__":
    asyncio.run(main())
