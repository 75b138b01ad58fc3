"""Chat that writes records: planner tools offered to a model (via the stand-ins, real SDKs)
and the offline assistant turning sentences into the same tool calls."""

from __future__ import annotations

import json

import httpx
import pytest

from everything_app.testing.script import Reply, ScriptedToolCall, ToolCalls
from tests.chat.conftest import ChatServer, parse_sse, signed_in_client, ui_chat_body
from tests.chat.conftest import chat_server as chat_server  # the fixture
from tests.conftest import SignedIn


async def _say(client: httpx.AsyncClient, text: str) -> str:
    response = await client.post(
        "/api/chat", json={"message": text, "stream": False, "timezone": "Europe/Paris"}
    )
    assert response.status_code == 200, response.text
    reply: str = response.json()["messages"][0]["text"]
    return reply


async def test_offline_sentences_make_records(signed_in: SignedIn) -> None:
    client = await signed_in()
    assert (await _say(client, "add task pay rent due friday")).startswith(
        "Added the task pay rent"
    )
    assert "to your calendar" in await _say(client, "lunch with Sam tomorrow 12:30-13:30")
    # "today", not "yesterday": on the 1st of a month (in Paris) yesterday was last month.
    assert "12.50" in await _say(client, "spent 12.50 on food today")
    assert "done" in await _say(client, "mark pay rent done")
    tasks = (await client.get("/api/tasks", params={"is_complete": "true"})).json()["data"]
    assert [(t["title"], t["is_complete"]) for t in tasks] == [("pay rent", True)]
    events = (await client.get("/api/events")).json()["data"]
    assert [e["title"] for e in events] == ["lunch with Sam"]
    expenses = (await client.get("/api/expenses")).json()["data"]
    assert [(e["amount"], e["category"]) for e in expenses] == [("12.50", "food")]
    assert "12.50" in await _say(client, "how much did I spend on food this month?")


async def test_offline_does_not_guess(signed_in: SignedIn) -> None:
    client = await signed_in()
    reply = await _say(client, "what is the capital of France?")
    assert "I can add tasks" in reply
    for path in ("/api/tasks", "/api/events", "/api/expenses"):
        assert (await client.get(path)).json()["data"] == []


@pytest.mark.parametrize("model", ["gpt-test", "claude-test"])
async def test_model_tool_call_creates_a_task(chat_server: ChatServer, model: str) -> None:
    standin = chat_server.openai if model == "gpt-test" else chat_server.anthropic
    args = json.dumps({"title": "water the plants"})
    standin.script.push(
        ToolCalls(calls=(ScriptedToolCall("create_task", args),)), Reply(text="Done, added it.")
    )
    async with signed_in_client(chat_server) as client:
        response = await client.post(
            "/api/chat", json=ui_chat_body("tools-1", "remind me", model=model)
        )
        events = [e for e in parse_sse(response.text) if e != "[DONE]"]
        types = [e["type"] for e in events]
        assert "tool-input-available" in types
        output = next(e for e in events if e["type"] == "tool-output-available")
        assert output["output"]["task"]["title"] == "water the plants"
        assert types.count("start-step") == 2  # the model answered with the result
        tasks = (await client.get("/api/tasks")).json()["data"]
        assert [t["title"] for t in tasks] == ["water the plants"]
    offered = standin.script.requests[0].body["tools"]
    names = {t.get("name") or t["function"]["name"] for t in offered}
    assert {"create_task", "create_event", "create_expense", "complete_task"} <= names


async def test_invalid_tool_arguments_never_half_write(chat_server: ChatServer) -> None:
    bad = json.dumps(
        {"title": "lunch", "start_time": "2030-01-01T13:00:00Z", "end_time": "2030-01-01T12:00:00Z"}
    )
    chat_server.openai.script.push(
        ToolCalls(calls=(ScriptedToolCall("create_event", bad),)), Reply(text="Sorry, fixing it.")
    )
    async with signed_in_client(chat_server) as client:
        response = await client.post(
            "/api/chat", json=ui_chat_body("tools-2", "lunch", model="gpt-test")
        )
        events = [e for e in parse_sse(response.text) if e != "[DONE]"]
        error = next(e for e in events if e["type"] == "tool-output-error")
        assert error["errorText"]
        assert (await client.get("/api/events")).json()["data"] == []
    # The model was shown the error to correct itself.
    second = chat_server.openai.script.requests[1].body["messages"]
    assert any(m["role"] == "tool" and "error" in m["content"] for m in second)


def _answer_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    events = [e for e in parse_sse(response.text) if e != "[DONE]"]
    return "".join(e["delta"] for e in events if e["type"] == "text-delta")


async def test_regenerating_does_not_repeat_a_write_offline(signed_in: SignedIn) -> None:
    """ "spent 7 on coffee" regenerated twice is still one expense; each answer reports it."""
    client = await signed_in()
    body = ui_chat_body("coffee", "spent 7 on coffee")
    first = _answer_text(await client.post("/api/chat", json=body))
    again = ui_chat_body("coffee", "spent 7 on coffee", trigger="regenerate-message")
    for _ in range(2):
        assert _answer_text(await client.post("/api/chat", json=again)) == first
    expenses = (await client.get("/api/expenses")).json()["data"]
    assert [(e["amount"], e["category"]) for e in expenses] == [("7.00", "coffee")]
    # A new message is a new turn: saying it again records it again.
    await client.post("/api/chat", json=ui_chat_body("coffee", "spent 7 on coffee"))
    assert len((await client.get("/api/expenses")).json()["data"]) == 2


@pytest.mark.parametrize("model", ["gpt-test", "claude-test"])
async def test_regenerating_does_not_repeat_a_write_with_a_model(
    chat_server: ChatServer, model: str
) -> None:
    """A model calls the tool again on each regeneration (new call ids): the write happens
    once per user turn; two identical calls in one turn are two writes, once."""
    standin = chat_server.openai if model == "gpt-test" else chat_server.anthropic
    coffee = ScriptedToolCall("create_expense", json.dumps({"amount": "7", "category": "coffee"}))
    calls = ToolCalls(calls=(coffee, coffee))
    async with signed_in_client(chat_server) as client:
        # No model-made title by default (CHAT_MODEL_TITLES): every call below is an answer's.
        standin.script.push(calls, Reply(text="Recorded two."))
        first = ui_chat_body("c", "2x", model=model)
        _answer_text(await client.post("/api/chat", json=first))
        await chat_server.app.state.generations.wait_idle()
        outputs = []
        for _ in range(2):
            standin.script.push(calls, Reply(text="Recorded two again."))
            again = ui_chat_body("c", "2x", model=model, trigger="regenerate-message")
            response = await client.post("/api/chat", json=again)
            _answer_text(response)
            events = [e for e in parse_sse(response.text) if e != "[DONE]"]
            outputs += [e["output"] for e in events if e["type"] == "tool-output-available"]
        expenses = (await client.get("/api/expenses")).json()["data"]
    assert len(expenses) == 2
    ids = {e["id"] for e in expenses}
    assert len(outputs) == 4
    assert {o["expense"]["id"] for o in outputs} == ids  # the replayed outputs name them
