"""The live-query page's client examples (docs/api/realtime.md), run as written against a
real server: the JavaScript class in Node (its built-in WebSocket, as in a browser) and the
Python client."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BASE_URL
from tests.realtime.support import WAIT, Instance, create_key, live, new_user

pytestmark = pytest.mark.slow  # the README's clients in node processes

README = Path(__file__).parents[2] / "docs" / "api" / "realtime.md"
NODE = shutil.which("node")


def _node_flags() -> list[str]:
    """Node 22+ has a global WebSocket; Node 20 needs a flag for it."""
    assert NODE is not None
    probe = subprocess.run(
        [NODE, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"], check=False
    )
    return [] if probe.returncode == 0 else ["--experimental-websocket"]


def _example(language: str, first_line: str) -> str:
    """The README code block in `language` that starts with `first_line`."""
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.DOTALL)
    (found,) = [b for b in blocks if b.startswith(first_line)]
    return str(found)


# A browser page on BASE_URL: `location`, and a WebSocket that sends the page's cookie and
# Origin (Node's WebSocket sends neither by itself).
HARNESS = """
globalThis.location = {{ origin: {origin} }};
const NodeSocket = globalThis.WebSocket;
globalThis.WebSocket = class extends NodeSocket {{
  constructor(url) {{ super(url, {{ headers: {{ Cookie: {cookie}, Origin: {page} }} }}); }}
}};
{example}
const live = new Live();
const report = (value) => console.log(JSON.stringify(value));
live.onSignedOut = (reason) => {{ report({{ signedOut: reason }}); process.exit(0); }};
live.subscribe("keys.list", {{}}, (data) => report({{ names: data.data.map((k) => k.name) }}));
"""


async def _line(process: asyncio.subprocess.Process) -> Any:
    assert process.stdout is not None
    async with asyncio.timeout(WAIT):
        return json.loads(await process.stdout.readline())


@pytest.mark.skipif(NODE is None, reason="node is not installed")
async def test_the_javascript_client(instance: Instance, tmp_path: Path) -> None:
    user = await new_user(instance)
    example = _example("js", "class Live {")
    example = example[: example.index("const live = new Live();")]  # the class; no React here
    script = tmp_path / "live.mjs"
    script.write_text(
        HARNESS.format(
            origin=json.dumps(instance.url),
            cookie=json.dumps(user.cookie),
            page=json.dumps(BASE_URL),
            example=example,
        )
    )
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE, *_node_flags(), "--no-warnings", str(script),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert await _line(process) == {"names": []}
        await create_key(instance, user, "from js")
        assert await _line(process) == {"names": ["from js"]}
        async with instance.http(Cookie=user.cookie) as http:
            await http.post("/api/auth/sign-out")
        assert await _line(process) == {"signedOut": "session_revoked"}
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_the_python_client(instance: Instance) -> None:
    user = await new_user(instance)
    key = await create_key(instance, user, "from python")
    example = _example("python", "import asyncio, json")
    example = example.replace("ws://127.0.0.1:8000", f"ws://{instance.host}")
    example = example[: example.index("asyncio.run(follow(")]  # the test runs it itself
    printed: list[str] = []
    seen = asyncio.Event()

    def capture(*values: object) -> None:  # the example's `print`
        printed.append(" ".join(str(v) for v in values))
        seen.set()

    namespace: dict[str, Any] = {"print": capture}
    exec(example, namespace)  # noqa: S102 - our own README, the point of the test
    follow = asyncio.create_task(namespace["follow"](key["key"]))
    try:
        async with asyncio.timeout(WAIT):
            await seen.wait()
        assert printed == ["1 ['from python']"]
    finally:
        follow.cancel()
        await asyncio.gather(follow, return_exceptions=True)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
async def test_the_javascript_apply_patch(instance: Instance, tmp_path: Path) -> None:
    """The README's `applyPatch`, fed a subscription's real messages, ends with the result the
    REST read gives."""
    user = await new_user(instance)
    args = {"limit": 3}
    async with live(instance, user=user) as client, instance.http(**user.bearer) as http:
        await client.send(type="subscribe", id="t", query="tasks.list", args=args, patch=True)
        messages = [await client.until(lambda m: m.get("id") == "t")]
        ids = []
        for n in range(5):
            ids.append((await http.post("/api/tasks", json={"title": f"task {n}"})).json()["id"])
            messages.append(await client.until(lambda m: m.get("id") == "t"))
        await http.patch(f"/api/tasks/{ids[-1]}", json={"title": "renamed"})
        messages.append(await client.until(lambda m: m.get("id") == "t"))
        await http.delete(f"/api/tasks/{ids[-2]}")
        messages.append(await client.until(lambda m: m.get("id") == "t"))
        expected = (await http.get("/api/tasks", params=args)).json()
    assert [m["version"] for m in messages] == list(range(1, len(messages) + 1))
    assert "patch" in {m["type"] for m in messages}
    script = tmp_path / "patch.mjs"
    script.write_text(
        _example("js", "function applyPatch")
        + f"let data;\nfor (const m of {json.dumps(messages)}) "
        + "data = m.type === 'result' ? m.data : applyPatch(data, m.ops);\n"
        + "console.log(JSON.stringify(data));\n"
    )
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE, "--no-warnings", str(script), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert await _line(process) == expected
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
