"""Chat titles: from the first message at once (no model call), and, when CHAT_MODEL_TITLES
is on, from the model after the answer, never over a name the user gave."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from everything_app.chat.service import TITLE_CHARS, title_from
from everything_app.testing.script import Reply, Stall
from tests.chat.conftest import ChatServer, signed_in_client, start_chat_server, ui_chat_body

TITLE_PROMPT = "Reply with a title"


async def test_a_new_chat_is_titled_from_its_first_message_at_once(
    chat_server: ChatServer,
) -> None:
    script = chat_server.openai.script
    script.push(Stall(text_before="thinking", then=Reply(text=" done")))
    async with signed_in_client(chat_server) as client:
        answer = asyncio.create_task(
            client.post(
                "/api/chat",
                json=ui_chat_body("chat-t", "Plan a trip to Lisbon please", model="gpt-test"),
            )
        )
        await asyncio.wait_for(script.stalled.wait(), 10)
        # While the answer is still being generated, the chat already has its title.
        sessions = (await client.get("/api/chat/sessions")).json()["data"]
        assert [s["title"] for s in sessions] == ["Plan a trip to Lisbon please"]
        script.release()
        assert (await asyncio.wait_for(answer, 10)).status_code == 200
        await chat_server.app.state.generations.wait_idle()
        sessions = (await client.get("/api/chat/sessions")).json()["data"]
    assert sessions[0]["title"] == "Plan a trip to Lisbon please"
    # One model call, the answer: no second call for the title (CHAT_MODEL_TITLES is off).
    assert len(script.requests) == 1
    assert TITLE_PROMPT not in str(script.requests[0].body["messages"])


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Plan a trip", "Plan a trip"),
        ("  spaced\n out  words ", "spaced out words"),
        (
            "one two three four five six seven eight nine",
            "one two three four five six seven eight…",
        ),
        ("x" * 300, "x" * (TITLE_CHARS - 1) + "…"),
        ("short " + "y" * 100, "short…"),
        ("", "New chat"),
    ],
)
def test_title_from_the_first_message_cuts_at_a_word(text: str, title: str) -> None:
    assert title_from(text) == title
    assert len(title_from(text)) <= TITLE_CHARS


async def test_title_comes_from_the_model_after_the_answer(
    database_url: str, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        server = await start_chat_server(stack, database_url, tmp_path, chat_model_titles=True)
        server.openai.script.push(Reply(text="the answer"), Reply(text="Trip To Lisbon"))
        async with signed_in_client(server) as client:
            await client.post(
                "/api/chat",
                json=ui_chat_body("chat-t", "Plan a trip to Lisbon please", model="gpt-test"),
            )
            await server.app.state.generations.wait_idle()
            sessions = (await client.get("/api/chat/sessions")).json()["data"]
        assert sessions[0]["title"] == "Trip To Lisbon"
        first, second = server.openai.script.requests
        assert TITLE_PROMPT not in str(first.body["messages"])  # the answer came first
        assert TITLE_PROMPT in str(second.body["messages"])


async def test_a_model_title_never_replaces_the_users_name(
    database_url: str, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        server = await start_chat_server(stack, database_url, tmp_path, chat_model_titles=True)
        script = server.openai.script
        script.push(Stall(text_before="thinking"), Reply(text="Model Title"))
        async with signed_in_client(server) as client:
            answer = asyncio.create_task(
                client.post("/api/chat", json=ui_chat_body("chat-n", "hello", model="gpt-test"))
            )
            await asyncio.wait_for(script.stalled.wait(), 10)
            session_id = (await client.get("/api/chat/sessions")).json()["data"][0]["id"]
            renamed = await client.patch(f"/api/chat/sessions/{session_id}", json={"title": "Mine"})
            assert renamed.status_code == 200
            script.release()
            assert (await asyncio.wait_for(answer, 10)).status_code == 200
            await server.app.state.generations.wait_idle()
            sessions = (await client.get("/api/chat/sessions")).json()["data"]
        assert len(script.requests) == 2  # the title was asked for ...
        assert sessions[0]["title"] == "Mine"  # ... and not used over the user's name
