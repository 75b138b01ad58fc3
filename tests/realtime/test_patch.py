"""Patches: applying them to the first result always gives the re-run query's result."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from everything_app.realtime.connection import Connection
from everything_app.realtime.identity import Identity
from everything_app.realtime.patch import apply, diff
from tests.realtime.conftest import InstanceFactory
from tests.realtime.support import WAIT, Instance, Live, User, live, new_user

# --- the algorithm, on any sequence of results ------------------------------------------

_row = st.fixed_dictionaries(
    {"id": st.sampled_from([f"r{i}" for i in range(12)]), "n": st.integers(0, 3)}
)
_rows = st.lists(_row, max_size=10, unique_by=lambda row: row["id"])
_result = st.fixed_dictionaries(
    {"data": _rows, "next_cursor": st.none() | st.sampled_from(["a", "b"]), "total": st.integers()}
)


@pytest.mark.slow  # hundreds of Hypothesis examples
@settings(max_examples=400, deadline=None)
@given(st.lists(_result, min_size=1, max_size=6))
def test_patches_replay_every_result(results: list[dict[str, Any]]) -> None:
    held = results[0]
    for new in results[1:]:
        ops = diff(held, new)
        assert ops is not None
        held = apply(held, ops)
        assert held == new
    assert diff(held, held) == []


@given(_rows, st.data())
def test_operations_touch_only_what_changed(old: list[Any], data: st.DataObject) -> None:
    """Rows removed are deletes, rows changed in place are updates, new rows are inserts, and
    a row that stayed as it was is never sent."""
    ids = [row["id"] for row in old]
    removed = data.draw(st.sets(st.sampled_from(ids)) if ids else st.just(set()))
    changed = data.draw(st.sets(st.sampled_from(ids)) if ids else st.just(set())) - removed
    kept = [
        {**row, "n": row["n"] + 10} if row["id"] in changed else row
        for row in old
        if row["id"] not in removed
    ]
    fresh = [{"id": f"new{i}", "n": 0} for i in range(data.draw(st.integers(0, 3)))]
    ops = diff({"data": old}, {"data": fresh + kept})
    assert ops is not None
    assert {op["id"] for op in ops if op["op"] == "delete"} == removed
    assert {op["id"] for op in ops if op["op"] == "update"} == changed
    assert [op["row"]["id"] for op in ops if op["op"] == "insert"] == [r["id"] for r in fresh]


def test_results_that_do_not_diff_go_whole() -> None:
    assert diff([1], [2]) is None  # not objects
    assert diff({"a": 1}, {"b": 1}) is None  # different fields
    assert diff({"data": [1, 2]}, {"data": [2]}) == [{"op": "set", "key": "data", "value": [2]}]
    duplicate = {"data": [{"id": "x"}, {"id": "x"}]}
    assert diff({"data": []}, duplicate) == [
        {"op": "set", "key": "data", "value": duplicate["data"]}
    ]


# --- over the wire, against the REST read of the same page --------------------------------


async def _next(client: Live, sub_id: str, version: int) -> dict[str, Any]:
    return await client.until(
        lambda m: (
            m.get("id") == sub_id
            and m["type"] in ("result", "patch", "error")
            and m.get("version", version) >= version
        )
    )


class Follower:
    """A client-side copy of one subscription's result, kept up to date by its messages."""

    def __init__(self, client: Live, sub_id: str) -> None:
        self.client, self.sub_id = client, sub_id
        self.data: Any = None
        self.version = 0
        self.kinds: list[str] = []

    async def start(self, query: str, args: dict[str, Any]) -> None:
        await self.client.send(type="subscribe", id=self.sub_id, query=query, args=args, patch=True)
        await self.step()

    async def step(self) -> None:
        message = await _next(self.client, self.sub_id, self.version + 1)
        assert message["type"] != "error", message
        assert message["version"] == self.version + 1  # nothing skipped in these tests
        self.kinds.append(message["type"])
        if message["type"] == "patch":
            self.data = apply(self.data, message["ops"])
        else:
            self.data = message["data"]
        self.version = message["version"]


async def _rest(instance: Instance, user: User, path: str, params: dict[str, Any]) -> Any:
    async with instance.http(**user.bearer) as http:
        response = await http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_patched_tasks_equal_the_rerun_query(instance: Instance) -> None:
    user = await new_user(instance)
    args: dict[str, Any] = {"limit": 4, "is_complete": "false"}
    async with live(instance, user=user) as client, instance.http(**user.bearer) as http:
        follower = Follower(client, "t")
        await follower.start("tasks.list", args)
        ids: list[str] = []

        async def check() -> None:
            await follower.step()
            assert follower.data == await _rest(instance, user, "/api/tasks", args)

        for n in range(6):  # inserts; past the limit the oldest fall off the page
            created = await http.post("/api/tasks", json={"title": f"task {n}"})
            ids.append(created.json()["id"])
            await check()
        await http.patch(f"/api/tasks/{ids[-1]}", json={"title": "renamed"})  # in place
        await check()
        await http.patch(f"/api/tasks/{ids[-2]}", json={"is_complete": True})  # leaves the filter
        await check()
        await http.delete(f"/api/tasks/{ids[-1]}")  # an older row comes back onto the page
        await check()
        assert "patch" in follower.kinds
        assert follower.kinds[0] == "result"  # the first result is always whole


async def test_patched_events_follow_a_row_that_moves(instance: Instance) -> None:
    user = await new_user(instance)
    args: dict[str, Any] = {"limit": 5, "sort": "start_time"}
    start = datetime(2030, 1, 1, tzinfo=UTC)

    def times(hours: int) -> dict[str, str]:
        begins = start + timedelta(hours=hours)
        return {
            "start_time": begins.isoformat(),
            "end_time": (begins + timedelta(minutes=30)).isoformat(),
        }

    async with live(instance, user=user) as client, instance.http(**user.bearer) as http:
        follower = Follower(client, "e")
        await follower.start("events.list", args)
        ids = []
        for hours in (1, 2, 3, 4):
            created = await http.post("/api/events", json={"title": f"at {hours}", **times(hours)})
            ids.append(created.json()["id"])
            await follower.step()
        await http.patch(f"/api/events/{ids[0]}", json=times(10))  # first to last
        await follower.step()
        assert follower.data == await _rest(instance, user, "/api/events", args)
        assert follower.kinds[-1] == "patch"


async def test_a_patch_bigger_than_the_result_goes_whole(instance: Instance) -> None:
    user = await new_user(instance)
    async with live(instance, user=user) as client, instance.http(**user.bearer) as http:
        follower = Follower(client, "one")
        await follower.start("tasks.list", {"limit": 1})
        for n in range(3):
            await http.post("/api/tasks", json={"title": f"task {n}"})
            await follower.step()
        # A one-row page: every write replaces it all, and the whole result is smaller.
        assert follower.kinds == ["result"] * 4
        assert follower.data == await _rest(instance, user, "/api/tasks", {"limit": 1})


async def test_without_the_option_results_stay_whole(instance: Instance) -> None:
    user = await new_user(instance)
    async with live(instance, user=user) as client, instance.http(**user.bearer) as http:
        await client.subscribe("t", "tasks.list")
        for n in range(3):
            await http.post("/api/tasks", json={"title": f"task {n}"})
            message = await _next(client, "t", n + 2)
            assert message["type"] == "result"
            assert len(message["data"]["data"]) == n + 1


# --- one frame per delivery, however many subscribers -------------------------------------


async def test_one_delivery_shares_its_frames(make_instance: InstanceFactory) -> None:
    """Subscribers of one group with the same id and version get the very same string."""
    # No revalidation runs (the fixtures' default): it would close these hand-made connections
    # (they hold no credential to check).
    instance = await make_instance()
    user = await new_user(instance)
    hub = instance.hub
    identity = Identity(user_id=user.id, role="user", via="bearer")
    conns = [hub.connect(identity, "websocket") for _ in range(3)]
    assert all(isinstance(c, Connection) for c in conns)
    sockets = [c for c in conns if isinstance(c, Connection)]
    try:
        for conn in sockets:
            hub.subscribe(conn, "t", "tasks.list", {"limit": 10})
        firsts = [await conn.outbox.get(WAIT) for conn in sockets]
        assert firsts[0] is not None
        assert firsts.count(firsts[0]) == 3
        async with instance.http(**user.bearer) as http:
            await http.post("/api/tasks", json={"title": "shared"})
        async with asyncio.timeout(WAIT):
            seconds = [await conn.outbox.get(WAIT) for conn in sockets]
        assert seconds[0] is not None
        assert '"shared"' in seconds[0]
        assert all(frame is seconds[0] for frame in seconds)  # one string, not three copies
    finally:
        for conn in sockets:
            hub.disconnect(conn)
