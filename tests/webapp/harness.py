"""The pytest side of the browser tests: a real `everything-app serve` (a subprocess, on a
free port, on the test's database) and `run_flow`, which runs a flow of tests/js/webapp/
(`node <flow>.mjs`, playwright-core driving Chromium) against it.

A page author adds `tests/js/webapp/<flow>.mjs` (see tests/js/webapp/lib.mjs) and a test:

    async def test_chat_answer_streams(webapp_server: Server) -> None:
        await webapp_server.run_flow("chat")

which runs on SQLite and PostgreSQL (the `database_url` parameters) and saves the flow's
screenshots in artifacts/screenshots/<db>/. Without node, Chromium, tests/js's npm packages
or the built app, these tests skip with the reason; with CI=true they fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from everything_app.webapp import PACKAGED_STATIC
from tests.conftest import SECRET, require_service, runtime_url, truncate_pg_database
from tests.private_services import START_TIMEOUT, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
JS_DIR = ROOT / "tests" / "js"
FLOWS = JS_DIR / "webapp"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
REAL_BUILD = PACKAGED_STATIC  # where `npm run build` in web/ writes the app
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE = shutil.which("node")
# Bounds a hung flow only (a browser waiting for something that never comes).
FLOW_TIMEOUT = 180.0
# Settings a developer's shell might carry that would point the server elsewhere.
_NOT_INHERITED = (
    "DATABASE_URL", "MIGRATION_DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "AI_MODELS", "SECRET_KEY", "BASE_URL",
    "APP_ENABLED", "APP_STATIC_DIR", "DATA_DIR", "TRUSTED_ORIGINS",
)  # fmt: skip


def require_browser() -> None:
    """node, Chromium and tests/js's packages (playwright-core, axe-core): skip, or fail
    with CI=true."""
    require_service(NODE is not None, "node is not installed")
    require_service(Path(CHROMIUM).is_file(), f"Chromium is not at {CHROMIUM} (set CHROMIUM)")
    for package in ("playwright-core", "axe-core"):
        require_service(
            (JS_DIR / "node_modules" / package).is_dir(),
            f"{package} is not installed: run `npm ci` in tests/js",
        )


def require_build(build: Path) -> None:
    require_service(
        (build / "index.html").is_file(),
        f"the web app is not built in {build}: run `bash scripts/build-web.sh`",
    )


def db_name(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgres") else "sqlite"


async def run_flow(
    flow: str,
    base_url: str,
    db: str,
    *,
    time_limit: float = FLOW_TIMEOUT,
    server_log: Path | None = None,
    **env: str,
) -> str:
    """Run tests/js/webapp/<flow>.mjs against `base_url`; `env` adds to its environment.
    Asserts it exits 0, showing its output (and the server's log) when it does not; returns
    its stdout."""
    script = FLOWS / f"{flow}.mjs"
    assert script.is_file(), f"no flow {script}"
    assert NODE is not None
    environment = {
        **os.environ,
        "BASE_URL": base_url,
        "SCREENSHOT_DIR": str(SCREENSHOTS / db),
        "CHROMIUM": CHROMIUM,
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        NODE, str(script), cwd=ROOT, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), time_limit)
    except TimeoutError:
        process.kill()
        stdout, stderr = await process.communicate()
        raise AssertionError(
            f"flow {flow} ran over {time_limit:.0f} s\n{_output(stdout, stderr, server_log)}"
        ) from None
    if process.returncode != 0:
        raise AssertionError(
            f"flow {flow} failed (exit {process.returncode}) on {db}\n"
            f"{_output(stdout, stderr, server_log)}"
        )
    return stdout.decode()


def _output(stdout: bytes, stderr: bytes, server_log: Path | None) -> str:
    parts = [f"--- stdout\n{stdout.decode()}", f"--- stderr\n{stderr.decode()}"]
    if server_log is not None and server_log.exists():
        lines = server_log.read_text(errors="replace").splitlines()[-40:]
        parts.append("--- server log (last 40 lines)\n" + "\n".join(lines))
    return "\n".join(parts)


@dataclass
class Server:
    """A running `everything-app serve`, and how to run flows against it."""

    base_url: str
    db: str
    data_dir: Path
    log: Path
    env: dict[str, str] = field(repr=False)

    async def run_flow(self, flow: str, *, time_limit: float = FLOW_TIMEOUT, **env: str) -> str:
        """`run_flow` against this server, its log shown when the flow fails."""
        return await run_flow(
            flow, self.base_url, self.db, time_limit=time_limit, server_log=self.log, **env
        )


@asynccontextmanager
async def serve_webapp(
    database_url: str, tmp_path: Path, build: Path, **settings: str
) -> AsyncIterator[Server]:
    """The real `serve` command (this interpreter's `-m everything_app serve`) on `database_url`
    (emptied first), serving the app built in `build`; `settings` are more environment
    variables (`RATE_LIMIT_SIGN_UP="1000/minute"`). Ready (`/readyz` 200) when yielded."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "serve-data"
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    if database_url.startswith("postgres"):
        await truncate_pg_database(database_url)
        env["DATABASE_URL"] = runtime_url(database_url)  # as in production: under RLS
        env["MIGRATION_DATABASE_URL"] = database_url
    else:
        env["DATABASE_URL"] = database_url
    env.update(
        DATA_DIR=str(data_dir),
        SECRET_KEY=SECRET,
        BASE_URL=base_url,
        APP_STATIC_DIR=str(build),
        AUTO_MIGRATE="false",  # the test databases are migrated
        BACKUP_SCHEDULE="",
        HOUSEKEEPING_SCHEDULE="",
    )
    env.update(settings)
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "everything_app", "serve", "--port", str(port),
            cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        await wait_for_port(port, process)
        await _wait_ready(base_url, process)
        yield Server(base_url, db_name(database_url), data_dir, log, env)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_ready(base_url: str, process: asyncio.subprocess.Process) -> None:
    """Until /readyz answers 200 (a readiness poll: the database may still be connecting)."""
    async with httpx.AsyncClient(base_url=base_url) as client, asyncio.timeout(START_TIMEOUT):
        while (await client.get("/readyz")).status_code != 200:
            if process.returncode is not None:
                raise RuntimeError(f"serve exited with {process.returncode}")
