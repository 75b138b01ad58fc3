"""The planner tools: validated like the REST routes, run as the user, nothing half-made."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from everything_app.chat import ToolFailed
from everything_app.core.changes import commit_and_publish
from everything_app.core.db import open_unit_of_work
from everything_app.planner.replies import describe
from everything_app.planner.sentences import parse_sentence
from everything_app.planner.tools import TOOLS, run_tool
from tests.conftest import SignedIn
from tests.planner.conftest import NOW, PARIS, local, post


async def _user(client: httpx.AsyncClient) -> uuid.UUID:
    return uuid.UUID((await client.get("/api/auth/get-session")).json()["user"]["id"])


async def call(app: FastAPI, user_id: uuid.UUID, name: str, args: Any) -> dict[str, Any]:
    """One tool call in its own unit of work, as the chat runs them."""
    async with await open_unit_of_work(app.state.sessionmaker, write=True) as db:
        result = await run_tool(db, user_id, name, args, NOW, PARIS)
        await commit_and_publish(db, app.state.changes)
    return result


def test_every_tool_has_a_json_schema_and_a_description() -> None:
    assert set(TOOLS) == {
        "create_event",
        "create_task",
        "complete_task",
        "create_expense",
        "list_events",
        "list_tasks",
        "list_expenses",
    }
    for name, (description, args, run, _writes) in TOOLS.items():
        schema = args.model_json_schema()
        assert schema["type"] == "object", name
        assert schema.get("additionalProperties") is False, name
        assert description
        assert callable(run)
    assert TOOLS["create_task"].args.model_json_schema()["required"] == ["title"]


async def test_create_tools_make_the_same_records_as_the_api(
    signed_in: SignedIn, app: FastAPI
) -> None:
    client = await signed_in()
    me = await _user(client)
    event = await call(app, me, "create_event", {"title": "Lunch", "start": "2026-11-19T12:30:00"})
    assert event["event"]["start_time"] == "2026-11-19T11:30:00Z"  # local time, then UTC
    assert event["event"]["end_time"] == "2026-11-19T12:30:00Z"  # one hour by default
    task = await call(app, me, "create_task", json.dumps({"title": "Pay rent"}))
    expense = await call(app, me, "create_expense", {"amount": "12.5", "category": "food"})
    assert expense["expense"]["amount"] == "12.50"
    assert expense["expense"]["incurred_at"] == "2026-11-18T09:00:00Z"  # now
    assert (await client.get(f"/api/events/{event['event']['id']}")).json() == event["event"]
    assert (await client.get(f"/api/tasks/{task['task']['id']}")).json() == task["task"]


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("create_event", {"title": "x", "start": "2026-11-19T12:00", "end": "2026-11-19T11:00"},
         "after"),
        ("create_event", {"title": "", "start": "2026-11-19T12:00"}, "title"),
        ("create_event", {"title": "x"}, "start"),
        ("create_task", {"title": "x", "user_id": str(uuid.uuid4())}, "user_id"),
        ("create_task", {"title": "x" * 201}, "title"),
        ("create_expense", {"amount": "0", "category": "food"}, "amount"),
        ("create_expense", {"amount": "1.234", "category": "food"}, "amount"),
        ("create_expense", {"amount": "5", "category": ""}, "category"),
        ("complete_task", {}, "id or title"),
        ("complete_task", {"id": str(uuid.uuid4())}, "not found"),
        ("complete_task", {"title": "nothing like it"}, "No open task"),
        ("list_events", {"start": "2026-11-20T00:00", "end": "2026-11-19T00:00"}, "after"),
        ("create_task", "{not json", "Invalid"),
        ("delete_everything", {}, "Unknown tool"),
    ],
)  # fmt: skip
async def test_invalid_calls_explain_and_write_nothing(
    signed_in: SignedIn, app: FastAPI, name: str, args: Any, message: str
) -> None:
    client = await signed_in()
    me = await _user(client)
    with pytest.raises(ToolFailed) as failed:
        await call(app, me, name, args)
    assert message in failed.value.message
    for path in ("events", "tasks", "expenses"):
        assert (await client.get(f"/api/{path}")).json()["data"] == []


async def test_complete_task_by_title_must_match_one_open_task(
    signed_in: SignedIn, app: FastAPI
) -> None:
    client, other = await signed_in(), await signed_in()
    me = await _user(client)
    for title in ("Pay rent", "Pay phone bill", "Water plants"):
        await post(client, "/api/tasks", {"title": title})
    await post(other, "/api/tasks", {"title": "Feed the cat"})

    with pytest.raises(ToolFailed, match="Several open tasks match 'pay'"):
        await call(app, me, "complete_task", {"title": "pay"})
    with pytest.raises(ToolFailed, match="No open task"):
        await call(app, me, "complete_task", {"title": "feed the cat"})  # someone else's
    done = await call(app, me, "complete_task", {"title": "PAY RENT"})  # exact beats partial
    assert done["task"]["title"] == "Pay rent"
    assert done["task"]["is_complete"] is True
    plants = await call(app, me, "complete_task", {"title": "plants"})
    assert plants["task"]["title"] == "Water plants"
    left = await call(app, me, "list_tasks", {})
    assert [t["title"] for t in left["tasks"]] == ["Pay phone bill"]


async def test_list_tools(signed_in: SignedIn, app: FastAPI) -> None:
    client = await signed_in()
    me = await _user(client)
    for amount, category, when in [
        ("10.00", "Food", "2026-11-02T12:00"),
        ("2.55", "food", "2026-11-17T12:00"),
        ("30.00", "transport", "2026-11-17T13:00"),
        ("99.00", "food", "2026-10-31T12:00"),
    ]:
        body = {"amount": amount, "category": category, "incurred_at": local(when)}
        await post(client, "/api/expenses", body)
    await post(
        client,
        "/api/events",
        {
            "title": "Dentist",
            "start_time": local("2026-11-20T09:00"),
            "end_time": local("2026-11-20T10:00"),
        },
    )
    food = await call(app, me, "list_expenses", {"category": "FOOD"})  # this month so far
    assert food["total"] == "12.55"
    assert food["count"] == 2
    assert [e["amount"] for e in food["expenses"]] == ["2.55", "10.00"]
    everything = await call(app, me, "list_expenses", {"start": "2026-10-01T00:00"})
    assert everything["total"] == "141.55"
    week = await call(app, me, "list_events", {})
    assert [e["title"] for e in week["events"]] == ["Dentist"]
    assert week["start"] == "2026-11-18T00:00:00+01:00"
    assert (await call(app, me, "list_events", {"end": "2026-11-19T00:00"}))["events"] == []


async def test_a_sentence_through_its_tool(signed_in: SignedIn, app: FastAPI) -> None:
    client = await signed_in()
    me = await _user(client)
    for sentence in (
        "add task pay rent due friday",
        "lunch with Sam tomorrow 12:30-13:30",
        "spent 12.50 on food yesterday",
        "mark pay rent done",
    ):
        invocation = parse_sentence(sentence, NOW, PARIS)
        assert invocation is not None, sentence
        await call(app, me, invocation.name, invocation.args)
    [task] = (await client.get("/api/tasks")).json()["data"]
    assert task["title"] == "pay rent"
    assert task["is_complete"] is True
    assert task["due_date"] == "2026-11-20T22:59:59Z"
    [event] = (await client.get("/api/events")).json()["data"]
    assert (event["start_time"], event["end_time"]) == (
        "2026-11-19T11:30:00Z",
        "2026-11-19T12:30:00Z",
    )
    [expense] = (await client.get("/api/expenses")).json()["data"]
    assert (expense["amount"], expense["category"]) == ("12.50", "food")
    question = parse_sentence("how much did I spend on food this month?", NOW, PARIS)
    assert question is not None
    assert (await call(app, me, question.name, question.args))["total"] == "12.50"


async def test_replies_say_what_was_done(signed_in: SignedIn, app: FastAPI) -> None:
    client = await signed_in()
    me = await _user(client)
    said = []
    for sentence in (
        "add task pay rent due friday",
        "lunch with Sam tomorrow 12:30-13:30",
        "spent 12.50 on food yesterday",
        "mark pay rent done",
        "what's on tomorrow?",
        "what's on today?",
        "what are my tasks?",
        "how much did I spend on food this month?",
    ):
        invocation = parse_sentence(sentence, NOW, PARIS)
        assert invocation is not None, sentence
        result = await call(app, me, invocation.name, invocation.args)
        said.append(describe(invocation.name, result, PARIS))
    assert said == [
        "Added the task pay rent (due Fri 20 Nov, 23:59).",
        "Added lunch with Sam (Thu 19 Nov, 12:30-13:30) to your calendar.",
        "Recorded 12.50 spent on food (Tue 17 Nov).",
        "Marked 'pay rent' as done.",
        "Your calendar on Thu 19 Nov: lunch with Sam (Thu 19 Nov, 12:30-13:30).",
        "Nothing on your calendar on Wed 18 Nov.",
        "No tasks match.",
        "You spent 12.50 on food from Sun 01 Nov to Mon 30 Nov (1 expense).",
    ]
