"""A streaming answer outlives a database outage: the client gets the whole answer, and it
is stored, complete, once the database is back (a private cluster, stopped mid-answer)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from everything_app.testing.script import Reply, Stall
from tests.chat.conftest import parse_sse, signed_in_client, start_chat_server, ui_chat_body
from tests.private_services import PrivatePostgres

pytestmark = pytest.mark.slow  # restarts a private PostgreSQL

ANSWER = "Written before the outage, and after it."


async def test_an_answer_is_stored_once_the_database_is_back(
    restartable_postgres: tuple[PrivatePostgres, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cluster, url = restartable_postgres
    async with AsyncExitStack() as stack:
        server = await start_chat_server(stack, url, tmp_path)
        script = server.openai.script
        before, after = ANSWER.split(", ")
        script.push(Stall(text_before=before + ", ", then=Reply(text=after, chunks=3)))
        async with signed_in_client(server) as client:
            body = ui_chat_body("chat-r", "go", model="gpt-test")
            async with client.stream("POST", "/api/chat", json=body) as response:
                await asyncio.wait_for(script.stalled.wait(), 10)
                await cluster.stop()  # mid-answer
                script.release()
                lines = response.aiter_lines()
                received = ""
                async for line in lines:
                    received += line + "\n"
                    if line == "data: [DONE]":
                        break
                # The client got all of it, with no error, while the database was down.
                events = parse_sse(received.strip())
                deltas = [e["delta"] for e in events[:-1] if e["type"] == "text-delta"]
                assert "".join(deltas) == ANSWER
                assert not [e for e in events[:-1] if e["type"] == "error"]
                # The response ends once the answer is stored: after the database is back.
                await cluster.start()
                assert [line async for line in lines if line] == []
            await server.app.state.generations.wait_idle()
            sessions = (await client.get("/api/chat/sessions")).json()["data"]
            page = await client.get("/api/chat/messages", params={"sessionId": sessions[0]["id"]})
        answer = page.json()["data"][-1]
        assert (answer["role"], answer["status"], answer["content"]) == (
            "assistant",
            "complete",
            ANSWER,
        )
        assert "answer_finish_deferred" in caplog.text  # it did wait for the database
