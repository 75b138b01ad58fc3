"""Live queries meet crafted input as REST does (issue 11): a forged `args.cursor` or an edge
timestamp in `args` is `invalid_args` (never `query_failed`), a message nested too deeply
is refused before it is parsed, SSE `args` likewise, and every timestamp in a live payload
is written in the API's one form. Both databases."""

from __future__ import annotations

import re
from typing import Any

from tests.realtime.support import Instance, create_key, live, new_user
from tests.test_hostile_input import EDGE_TIMES, FORGED_CURSORS, WRITTEN, deep_text

LISTS = ("keys.list", "chat.sessions", "tasks.list", "events.list", "expenses.list")


async def test_forged_cursors_and_edge_times_are_invalid_args(instance: Instance) -> None:
    user = await new_user(instance)
    wrong: list[tuple[Any, ...]] = []
    for name, cursor in FORGED_CURSORS.items():
        # A socket per cursor: one socket's subscriptions are rate-limited (a burst of 100).
        async with live(instance, user=user) as client:
            for query in LISTS:
                answer = await client.subscribe(query, query, cursor=cursor)
                if (answer["type"], answer.get("code")) != ("error", "invalid_args"):
                    wrong.append((query, name, answer))
    async with live(instance, user=user) as client:
        for edge in EDGE_TIMES:
            for query, field in (
                ("events.list", "from"),
                ("tasks.list", "due_to"),
                ("expenses.list", "to"),
            ):
                answer = await client.subscribe(f"{query}-{edge}", query, **{field: edge})
                if (answer["type"], answer.get("code")) != ("error", "invalid_args"):
                    wrong.append((query, edge, answer))
        # The socket is still in service.
        assert (await client.subscribe("ok", "keys.list"))["type"] == "result"
    assert wrong == []


async def test_deep_messages_are_refused_before_parsing(instance: Instance) -> None:
    user = await new_user(instance)
    async with live(instance, user=user) as client:
        message = (
            '{"type": "subscribe", "id": "deep", "query": "keys.list", "args": {"cursor": '
            + deep_text(950)
            + "}}"
        )
        await client.send_raw(message)
        error = await client.error(None)
        assert error["code"] == "invalid_message"
        assert "nested" in error["message"]
        assert (await client.subscribe("ok", "keys.list"))["type"] == "result"
    async with instance.http(**user.bearer) as http:
        response = await http.get(
            "/api/realtime/events",
            params={"subscribe": "keys.list", "args": '{"a": ' + deep_text(900) + "}"},
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "json_too_deep"
        forged = await http.get(
            "/api/realtime/events",
            params={
                "subscribe": "keys.list",
                "args": f'{{"cursor": "{FORGED_CURSORS["year 1 with offset"]}"}}',
            },
        )
        assert forged.status_code == 422
        assert forged.json()["error"]["code"] == "invalid_args"


async def test_live_payloads_write_timestamps_in_the_one_form(instance: Instance) -> None:
    user = await new_user(instance)
    await create_key(instance, user, "stamp")
    async with instance.http(**user.bearer) as http:
        created = await http.post(
            "/api/events",
            json={
                "title": "e",
                "start_time": "2030-01-01T10:00:00+02:00",
                "end_time": "2030-01-01T11:00:00+02:00",
            },
        )
        assert created.status_code == 201
    async with live(instance, user=user) as client:
        keys = await client.subscribe("k", "keys.list")
        events = await client.subscribe("e", "events.list")
    stamps = re.findall(r'"(\d{4}-\d\d-\d\dT[^"]*)"', str(keys).replace("'", '"'))
    stamps += re.findall(r'"(\d{4}-\d\d-\d\dT[^"]*)"', str(events).replace("'", '"'))
    assert len(stamps) >= 5
    assert [s for s in stamps if not WRITTEN.match(s)] == []
    assert events["data"]["data"][0]["start_time"] == "2030-01-01T08:00:00Z"
