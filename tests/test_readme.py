"""The examples of the README and of the documentation (docs/) run as written against a server
on the embedded defaults.

Blocks marked `<!-- readme-example: run -->` run in order in one shell, the README's first and
then the documentation's pages by path (so `$TOKEN` and `$KEY`, made by the README's tour,
carry over, as for a reader), against `everything-app serve` on a fresh SQLite data
directory with no AI provider configured (what `bash scripts/serve.sh` starts), on a free
port instead of 8000. Every block that talks to the server must carry a marker: `run`, or
`skip (reason)` for one that needs a real provider key or runs until interrupted.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.private_services import free_port, wait_for_port

pytestmark = pytest.mark.slow  # runs the README's examples against a server process

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# The README's tour first: the pages' examples use the token and key it makes.
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]
_BLOCK = re.compile(
    r"(?:<!-- readme-example: (?P<marker>[^>]*?) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```",
    re.DOTALL,
)
# Settings a developer's shell might carry that the default install does not have.
_NOT_DEFAULT = (
    "DATABASE_URL", "MIGRATION_DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "AI_MODELS", "SECRET_KEY", "BASE_URL",
)  # fmt: skip


@dataclass
class Example:
    page: Path
    lang: str
    body: str
    marker: str | None


def examples() -> list[Example]:
    return [
        Example(page, m["lang"], m["body"], m["marker"])
        for page in PAGES
        for m in _BLOCK.finditer(page.read_text())
    ]


def test_every_example_that_calls_the_server_is_marked() -> None:
    for example in examples():
        if "127.0.0.1:8000" in example.body or "curl " in example.body:
            assert example.marker is not None, (
                f"no readme-example marker in {example.page.name} on:\n{example.body}"
            )
            assert example.marker == "run" or example.marker.startswith("skip ("), example.marker


@pytest.fixture
async def default_server(tmp_path: Path) -> AsyncIterator[int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in _NOT_DEFAULT}
    env["DATA_DIR"] = str(tmp_path / "data")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "everything_app", "serve", "--port", str(port),
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await wait_for_port(port, process)  # uvicorn listens once migrations and start-up are done
        yield port
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)


def _script(port: int) -> str:
    parts = ["set -euo pipefail"]
    for example in examples():
        if example.marker != "run":
            continue
        body = example.body.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        if example.lang == "bash":
            parts.append(body)
        elif example.lang == "python":  # as `.venv/bin/python`, which has the SDKs
            parts.append(f"\"$PYTHON\" - <<'README_PYTHON'\n{body}README_PYTHON")
        else:
            raise AssertionError(f"cannot run a {example.lang!r} example ({example.page.name})")
    return "\n".join(parts) + "\n"


async def test_readme_examples_run_as_written(default_server: int, tmp_path: Path) -> None:
    script = _script(default_server)
    assert script.count("curl ") >= 3  # the examples were found
    env = {k: v for k, v in os.environ.items() if k not in _NOT_DEFAULT}
    env["PYTHON"] = sys.executable
    shell = await asyncio.create_subprocess_exec(
        "bash", "-c", script, cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(shell.communicate(), timeout=120)
    assert shell.returncode == 0, stderr.decode()
    out = stdout.decode()
    assert '"error"' not in out, out  # curl -s prints error bodies without failing
    assert '"id":"offline"' in out  # /v1/models
    assert "built-in offline assistant" in out  # /v1/chat/completions, curl and SDK
    assert "Recorded 12.50 spent on food" in out  # the chat made the expense
    assert '"amount":"12.50"' in out  # and it is listed
    assert "ChatCompletionChunk(" in out  # the OpenAI SDK streamed
