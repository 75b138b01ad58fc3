"""The real AI SDK client (npm `ai`, newest 5.x and 6.x) reading our /api/chat stream.

`readUIMessageStream(..., terminateOnError: true)` validates every chunk against the SDK's
own schemas, so a chunk shape the browser's `useChat` would reject fails these tests.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from everything_app.testing.script import ErrorMidStream, Reply, Stall
from tests.chat.conftest import ChatServer, signed_in_client, start_chat_server, ui_chat_body
from tests.conftest import require_service

JS_DIR = Path(__file__).resolve().parents[1] / "js"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.slow,  # the real AI SDK clients in node processes
    pytest.mark.parametrize("major", ["5", "6"]),
]


@pytest.fixture(autouse=True)
def _node_available() -> None:
    installed = (JS_DIR / "node_modules" / "ai5").is_dir() and (
        JS_DIR / "node_modules" / "ai6"
    ).is_dir()
    require_service(
        NODE is not None and installed,
        "node and tests/js/node_modules are needed (scripts/test.sh runs `npm ci` in tests/js)",
    )


class NodeClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def next_event(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        if not line:
            assert self.process.stderr is not None
            error = await self.process.stderr.read()
            raise AssertionError(f"node exited: {error.decode()[-2000:]}")
        event: dict[str, Any] = json.loads(line)
        return event

    async def failure(self) -> str:
        assert self.process.stderr is not None
        code = await asyncio.wait_for(self.process.wait(), 30)
        assert code != 0
        return (await self.process.stderr.read()).decode()


async def _node(*args: str) -> AsyncIterator[NodeClient]:
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        str(JS_DIR / "chat_client.mjs"),
        *args,
        cwd=JS_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield NodeClient(process)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def _token(server: ChatServer) -> str:
    async with signed_in_client(server) as client:
        session = (await client.get("/api/auth/get-session")).json()
    token: str = session["session"]["token"]
    return token


def _text(message: dict[str, Any]) -> str:
    return "".join(p["text"] for p in message["parts"] if p["type"] == "text")


async def test_send_message_assembles_the_answer(chat_server: ChatServer, major: str) -> None:
    chat_server.openai.script.push(Reply(text="Hello from the model, in pieces.", chunks=4))
    token = await _token(chat_server)
    async for node in _node(major, chat_server.url, token, "send", "js-chat", "hi", "gpt-test"):
        assert (await node.next_event())["event"] == "connected"
        message = (await node.next_event())["message"]
    assert message["role"] == "assistant"
    assert _text(message) == "Hello from the model, in pieces."


async def test_start_metadata_names_the_session(chat_server: ChatServer, major: str) -> None:
    """The session id rides on `start` as messageMetadata; the client keeps it as the
    message's `metadata`."""
    chat_id = str(uuid.uuid4())
    token = await _token(chat_server)
    async for node in _node(major, chat_server.url, token, "send", chat_id, "hi", "gpt-test"):
        await node.next_event()
        message = (await node.next_event())["message"]
    assert message["metadata"] == {"sessionId": chat_id}


async def test_tool_call_chunks_are_valid(chat_server: ChatServer, major: str) -> None:
    token = await _token(chat_server)
    text = '[[tool:lookup {"q": "x"}]]'
    async for node in _node(major, chat_server.url, token, "send", "js-tool", text, "gpt-test"):
        await node.next_event()
        message = (await node.next_event())["message"]
    tool_parts = [
        p for p in message["parts"] if p["type"].startswith("tool-") or p["type"] == "dynamic-tool"
    ]
    assert len(tool_parts) == 1
    assert tool_parts[0]["input"] == {"q": "x"}
    assert tool_parts[0]["state"] == "output-error"  # no such tool on this server
    assert _text(message).startswith("Tool result received")


async def test_reloaded_history_is_valid_ui_messages(chat_server: ChatServer, major: str) -> None:
    """Every stored message, questions included, comes back with parts the SDK accepts."""
    chat_id = str(uuid.uuid4())
    token = await _token(chat_server)
    text = '[[tool:lookup {"q": "x"}]]'
    async for node in _node(major, chat_server.url, token, "send", chat_id, text, "gpt-test"):
        await node.next_event()
        await node.next_event()
    await chat_server.app.state.generations.wait_idle()
    async for node in _node(major, chat_server.url, token, "history", chat_id):
        messages = (await node.next_event())["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["parts"] == [{"type": "text", "text": text}]
    types = [p["type"] for p in messages[1]["parts"]]
    assert types == ["step-start", "tool-lookup", "step-start", "text"]
    assert _text(messages[1]).startswith("Tool result received")


async def test_resume_after_disconnect(chat_server: ChatServer, major: str) -> None:
    script = chat_server.openai.script
    script.push(Stall(text_before="Partial ", then=Reply(text="and the rest.", chunks=2)))
    async with signed_in_client(chat_server) as client:
        token = (await client.get("/api/auth/get-session")).json()["session"]["token"]
        body = ui_chat_body("js-resume", "go", model="gpt-test")
        async with client.stream("POST", "/api/chat", json=body) as response:
            async for line in response.aiter_lines():
                if '"text-delta"' in line:
                    break
    await asyncio.wait_for(script.stalled.wait(), 10)
    async for node in _node(major, chat_server.url, token, "resume", "js-resume"):
        assert (await node.next_event())["event"] == "connected"
        script.release()
        message = (await node.next_event())["message"]
    assert _text(message) == "Partial and the rest."
    async for node in _node(major, chat_server.url, token, "resume", "js-resume"):
        assert (await node.next_event())["event"] == "nothing-streaming"


async def test_provider_error_reaches_the_client(chat_server: ChatServer, major: str) -> None:
    chat_server.openai.script.push(ErrorMidStream(text_before="Some words"))
    token = await _token(chat_server)
    async for node in _node(major, chat_server.url, token, "send", "js-error", "go", "gpt-test"):
        assert (await node.next_event())["event"] == "connected"
        error = await node.failure()
    assert "stand-in failed" in error.lower() or "error" in error.lower()


async def test_a_busy_server_is_a_clear_error_not_a_hang(
    database_url: str, tmp_path: Path, major: str
) -> None:
    """Admission control: with the only slot taken and no place in line, the AI SDK's
    transport fails at once with our 503 `chat_busy` message."""
    async with AsyncExitStack() as stack:
        server = await start_chat_server(
            stack, database_url, tmp_path, chat_max_generations=1, chat_queue_size=0
        )
        script = server.openai.script
        script.push(Stall(text_before="holding"))
        async with signed_in_client(server) as client:
            token = (await client.get("/api/auth/get-session")).json()["session"]["token"]
            holding = asyncio.create_task(
                client.post("/api/chat", json=ui_chat_body("js-hold", "go", model="gpt-test"))
            )
            await asyncio.wait_for(script.stalled.wait(), 10)
            async for node in _node(major, server.url, token, "send", "js-busy", "hi", "gpt-test"):
                error = await node.failure()
            assert "chat_busy" in error
            assert "answering as many chats as it can" in error
            script.release()
            assert (await asyncio.wait_for(holding, 10)).status_code == 200
