"""Chat sessions, messages and history: pagination, validation, and privacy (in-process app,
offline model)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from everything_app.chat.live import MessagesArgs, chat_messages
from everything_app.chat.models import ChatSession, Message
from everything_app.core import rls
from everything_app.realtime.registry import Viewer
from tests.chat.conftest import parse_sse
from tests.conftest import SignedIn, asgi_client, privileged_db


async def _chat(client: httpx.AsyncClient, text: str, **extra: str) -> dict[str, str]:
    response = await client.post("/api/chat", json={"message": text, "stream": False, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def _counts(app: FastAPI) -> tuple[int, int]:
    async with privileged_db(app) as db:
        sessions = (await db.execute(select(func.count()).select_from(ChatSession))).scalar_one()
        messages = (await db.execute(select(func.count()).select_from(Message))).scalar_one()
    return sessions, messages


async def test_sessions_crud(signed_in: SignedIn) -> None:
    client = await signed_in()
    first = await _chat(client, "first chat about gardening")
    second = await _chat(client, "second chat")
    listed = (await client.get("/api/chat/sessions")).json()
    assert [s["id"] for s in listed["data"]] == [second["session_id"], first["session_id"]]
    assert listed["data"][1]["title"] == "first chat about gardening"

    one = await client.get(f"/api/chat/sessions/{first['session_id']}")
    assert one.json()["model"] == "offline"
    renamed = await client.patch(
        f"/api/chat/sessions/{first['session_id']}", json={"title": "Garden"}
    )
    assert renamed.json()["title"] == "Garden"
    assert (
        await client.patch(f"/api/chat/sessions/{first['session_id']}", json={"title": ""})
    ).status_code == 422

    deleted = await client.delete(f"/api/chat/sessions/{first['session_id']}")
    assert deleted.status_code == 204
    assert (await client.get(f"/api/chat/sessions/{first['session_id']}")).status_code == 404
    messages = await client.get("/api/chat/messages", params={"sessionId": first["session_id"]})
    assert messages.status_code == 404


async def test_messages_of_a_session_in_reading_order(signed_in: SignedIn) -> None:
    client = await signed_in()
    session_id = (await _chat(client, "one"))["session_id"]
    for text in ("two", "three"):
        await _chat(client, text, session_id=session_id)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"sessionId": session_id, "limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/chat/messages", params=params)).json()
        seen += [m["content"] for m in page["data"] if m["role"] == "user"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["one", "two", "three"]


async def test_messages_newest_first_page_back_to_the_first(signed_in: SignedIn) -> None:
    """`order=newest`: a chat view opens at the latest messages and scrolls up through
    older pages until the first one."""
    client = await signed_in()
    session_id = (await _chat(client, "one"))["session_id"]
    for text in ("two", "three"):
        await _chat(client, text, session_id=session_id)
    pages: list[list[str]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"sessionId": session_id, "limit": 2, "order": "newest"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/chat/messages", params=params)).json()
        pages.append([m["role"] for m in page["data"]])
        if page["data"][-1]["role"] == "user":
            pages[-1][-1] = page["data"][-1]["content"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [["assistant", "three"], ["assistant", "two"], ["assistant", "one"]]
    bad = await client.get(
        "/api/chat/messages", params={"sessionId": session_id, "order": "sideways"}
    )
    assert bad.status_code == 422


async def test_history_pages_backwards_across_sessions(signed_in: SignedIn) -> None:
    client = await signed_in()
    for text in ("a", "b", "c"):
        await _chat(client, text)  # three sessions
    page1 = (await client.get("/api/chat/history", params={"limit": 2})).json()
    assert [m["role"] for m in page1["data"]] == ["assistant", "user"]
    assert page1["data"][1]["content"] == "c"
    by_cursor = (
        await client.get("/api/chat/history", params={"limit": 2, "before": page1["next_cursor"]})
    ).json()
    by_id = (
        await client.get("/api/chat/history", params={"limit": 2, "before": page1["data"][1]["id"]})
    ).json()
    assert by_cursor["data"] == by_id["data"]
    assert by_cursor["data"][1]["content"] == "b"
    everything = (await client.get("/api/chat/history", params={"limit": 100})).json()
    assert len(everything["data"]) == 6
    assert everything["next_cursor"] is None
    stamp = everything["data"][2]["created_at"]
    older = (await client.get("/api/chat/history", params={"before": stamp})).json()["data"]
    assert all(m["created_at"] < stamp for m in older)
    bad = await client.get("/api/chat/history", params={"before": "2026-01-01T00:00:00"})
    assert bad.status_code == 400


async def test_another_users_chat_is_404_everywhere(signed_in: SignedIn, app: FastAPI) -> None:
    alice, bob = await signed_in(), await signed_in()
    alices = str((await _chat(alice, "private thoughts"))["session_id"])
    alice_message = (await alice.get("/api/chat/history")).json()["data"][0]["id"]
    probes = [
        bob.get(f"/api/chat/sessions/{alices}"),
        bob.patch(f"/api/chat/sessions/{alices}", json={"title": "mine now"}),
        bob.delete(f"/api/chat/sessions/{alices}"),
        bob.get("/api/chat/messages", params={"sessionId": alices}),
        bob.post(f"/api/chat/{alices}/stop"),
        bob.get("/api/chat/history", params={"before": alice_message}),
        bob.post("/api/chat", json={"message": "hi", "session_id": alices, "stream": False}),
        bob.post(
            "/api/chat",
            json={
                "id": alices,
                "messages": [{"id": "1", "role": "user", "parts": [{"type": "text", "text": "x"}]}],
            },
        ),
    ]
    for probe in probes:
        response = await probe
        assert response.status_code == 404, response.request.url
    assert (await bob.get(f"/api/chat/{alices}/stream")).status_code == 204
    assert (await bob.get("/api/chat/sessions")).json()["data"] == []
    assert (await bob.get("/api/chat/history")).json()["data"] == []
    assert "private thoughts" not in (await bob.get("/api/chat/history")).text
    mine = (await alice.get(f"/api/chat/sessions/{alices}")).json()
    assert mine["title"] == "private thoughts"
    assert await _counts(app) == (1, 2)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"content": ""},
        {"message": "x" * 40_000},
        {"content": "hi", "unexpected": 1},
        {"id": "c", "messages": []},
        {"id": "c", "messages": [{"id": "1", "role": "robot", "parts": []}]},
        {
            "id": "c",
            "messages": [
                {"id": "1", "role": "assistant", "parts": [{"type": "text", "text": "x"}]}
            ],
        },
        {
            "id": "c",
            "messages": [{"id": "1", "role": "user", "parts": [{"type": "text", "text": "x"}]}],
            "trigger": "nope",
        },
    ],
)
async def test_bad_bodies_are_422_and_write_nothing(
    signed_in: SignedIn, app: FastAPI, body: dict[str, object]
) -> None:
    client = await signed_in()
    response = await client.post("/api/chat", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert await _counts(app) == (0, 0)


async def test_unknown_model_is_400_naming_valid_ones(signed_in: SignedIn, app: FastAPI) -> None:
    client = await signed_in()
    response = await client.post("/api/chat", json={"content": "hi", "model": "gpt-99"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unknown_model"
    assert "offline" in error["message"]
    assert await _counts(app) == (0, 0)
    models = (await client.get("/api/models")).json()
    assert models["default"] == "offline"
    assert [m["id"] for m in models["data"]] == ["offline"]


async def test_regenerate_without_a_question_is_400(signed_in: SignedIn) -> None:
    client = await signed_in()
    body = {
        "id": str(uuid.uuid4()),
        "trigger": "regenerate-message",
        "messages": [{"id": "1", "role": "user", "parts": [{"type": "text", "text": "x"}]}],
    }
    response = await client.post("/api/chat", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "nothing_to_regenerate"


async def test_chat_is_rate_limited_per_user(signed_in: SignedIn, app: FastAPI) -> None:
    client = await signed_in()
    limit = int(app.state.settings.rate_limit_chat_user.split("/")[0])
    for i in range(limit):
        await _chat(client, f"message {i}")
    limited = await client.post("/api/chat", json={"message": "one too many", "stream": False})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    other = await signed_in()
    assert (
        await other.post("/api/chat", json={"message": "hi", "stream": False})
    ).status_code == 200


async def test_chat_needs_authentication(app: FastAPI) -> None:
    async with asgi_client(app, origin=None) as client:
        for method, path in [
            ("POST", "/api/chat"),
            ("GET", "/api/chat/sessions"),
            ("GET", "/api/chat/history"),
            ("GET", "/api/chat/x/stream"),
            ("GET", "/api/models"),
        ]:
            response = await client.request(
                method, path, json={"content": "x"} if method == "POST" else None
            )
            assert response.status_code == 401, path


@pytest.mark.parametrize(
    ("body", "loc", "error_type"),
    [
        ({}, ["body"], "invalid_chat_body"),
        ({"content": ""}, ["body", "content", "content"], "string_too_short"),
        ({"content": "hi", "unexpected": 1}, ["body", "content", "unexpected"], "extra_forbidden"),
        ({"message": 5}, ["body", "message", "message"], "string_type"),
        ({"content": "hi", "timezone": "Mars/X"}, ["body", "content", "timezone"], "value_error"),
        ({"id": "c", "messages": []}, ["body", "ui", "messages"], "too_short"),
        (
            {"id": "c", "messages": [{"id": "1", "role": "robot", "parts": []}]},
            ["body", "ui", "messages", 0, "role"],
            "literal_error",
        ),
        ({"id": "c"}, ["body", "ui", "messages"], "missing"),
        ([1, 2], ["body"], "invalid_chat_body"),
    ],
)
async def test_one_mistake_is_one_detail_naming_it(
    signed_in: SignedIn, body: object, loc: list[object], error_type: str
) -> None:
    """The body is one of three shapes; a mistake is reported against the shape the body
    chose (by its key), not as every shape's complaints."""
    client = await signed_in()
    response = await client.post("/api/chat", json=body)
    assert response.status_code == 422, response.text
    details = response.json()["error"]["details"]
    assert [(d["loc"], d["type"]) for d in details] == [(loc, error_type)]


async def test_history_cursor_walks_every_message_once(signed_in: SignedIn) -> None:
    """`cursor` (the README's list convention) pages on; it used to be ignored, so an
    infinite-scroll client got page 1 forever."""
    client = await signed_in()
    session_id = (await _chat(client, "one"))["session_id"]
    for text in ("two", "three", "four"):
        await _chat(client, text, session_id=session_id)
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 3}
    for _ in range(10):
        page = (await client.get("/api/chat/history", params=params)).json()
        seen += [m["id"] for m in page["data"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    everything = (await client.get("/api/chat/history", params={"limit": 100})).json()["data"]
    assert len(everything) == 8
    assert seen == [m["id"] for m in everything]  # each once, newest first
    both = {"cursor": params["cursor"], "before": everything[0]["id"]}
    assert (await client.get("/api/chat/history", params=both)).status_code == 400
    forged = await client.get("/api/chat/history", params={"cursor": "not-a-cursor"})
    assert (forged.status_code, forged.json()["error"]["code"]) == (400, "invalid_cursor")


async def test_a_content_stream_tells_the_client_its_session(signed_in: SignedIn) -> None:
    """Seed 001's `{content}` client learns its session id from the stream (the AI SDK's
    message metadata on `start`) and from a header CORS exposes, and continues with it."""
    client = await signed_in()
    first = await client.post("/api/chat", json={"content": "hello"})
    assert first.status_code == 200
    session_id = first.headers["X-Chat-Session-Id"]
    exposed = first.headers["Access-Control-Expose-Headers"].lower().split(", ")
    assert "x-chat-session-id" in exposed
    start = parse_sse(first.text)[0]
    assert start["type"] == "start"
    assert start["messageMetadata"] == {"sessionId": session_id}
    second = await client.post("/api/chat", json={"content": "again", "session_id": session_id})
    assert second.headers["X-Chat-Session-Id"] == session_id
    assert parse_sse(second.text)[0]["messageMetadata"] == {"sessionId": session_id}
    as_json = await client.post(
        "/api/chat", json={"message": "and json", "session_id": session_id, "stream": False}
    )
    assert as_json.headers["X-Chat-Session-Id"] == as_json.json()["session_id"] == session_id
    messages = (await client.get("/api/chat/messages", params={"sessionId": session_id})).json()
    assert [m["content"] for m in messages["data"] if m["role"] == "user"] == [
        "hello",
        "again",
        "and json",
    ]
    assert len((await client.get("/api/chat/sessions")).json()["data"]) == 1


async def test_every_message_has_its_parts_on_every_read(signed_in: SignedIn, app: FastAPI) -> None:
    """A `useChat` client reloading history expects `parts` on every message: stored whole for
    new rows, made from the content for rows written before (and for an answer streaming)."""
    client = await signed_in()
    session_id = uuid.UUID((await _chat(client, "hello"))["session_id"])
    await _chat(client, "add task pay rent due friday", session_id=str(session_id))
    async with privileged_db(app) as db:
        stored = (
            (await db.execute(select(Message).where(Message.session_id == session_id)))
            .scalars()
            .all()
        )
        assert all(m.parts for m in stored)  # written whole, not only at read time
        user_id = stored[0].user_id
        old_question = Message(session_id=session_id, user_id=user_id, role="user", content="old")
        old_answer = Message(
            session_id=session_id,
            user_id=user_id,
            role="assistant",
            content="Did it.",
            parts=[{"type": "tool-x", "toolCallId": "c", "state": "output-available"}],
        )
        db.add_all([old_question, old_answer])
        await db.commit()

    def check(messages: list[dict[str, Any]]) -> None:
        assert len(messages) == 6
        for message in messages:
            text = [p["text"] for p in message["parts"] if p["type"] == "text"]
            assert text == [message["content"]], message
            if message["role"] == "user":
                assert message["parts"] == [{"type": "text", "text": message["content"]}]
        tools = [p["type"] for m in messages for p in m["parts"] if p["type"].startswith("tool-")]
        assert tools == ["tool-create_task", "tool-x"] or tools == ["tool-x", "tool-create_task"]

    check((await client.get("/api/chat/history")).json()["data"])
    params = {"sessionId": str(session_id)}
    check((await client.get("/api/chat/messages", params=params)).json()["data"])
    async with app.state.sessionmaker() as db:
        await rls.set_current_user(db, user_id)
        live = await chat_messages(db, Viewer(user_id), MessagesArgs(session_id=session_id))
    check([m.model_dump(mode="json") for m in live.data])
