"""A row created through the REST API reaches an unfiltered live list without the list being
read again (the hub folds the exact change into the last result), and what subscribers get
is exactly what reading the list gives; everything else still runs the query."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from everything_app.core.changes import Change
from everything_app.realtime import payload
from tests.realtime.support import Instance, Live, User, live, new_user


async def _create(instance: Instance, user: User, path: str, body: dict[str, Any]) -> None:
    async with instance.http(**user.bearer) as http:
        created = await http.post(f"/api/{path}", json=body)
    assert created.status_code == 201, created.text


async def _read(instance: Instance, user: User, path: str, query: str) -> dict[str, Any]:
    async with instance.http(**user.bearer) as http:
        page = await http.get(f"/api/{path}?{query}")
    assert page.status_code == 200, page.text
    listed: dict[str, Any] = page.json()
    return listed


async def _follows(
    instance: Instance, user: User, client: Live, path: str, query: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Create a row; the live list's next result, which must be the list as read now."""
    await _create(instance, user, path, body)
    expected = await _read(instance, user, path, query)
    message = await client.result("s", lambda data: data == expected)
    data: dict[str, Any] = message["data"]
    return data


async def test_created_tasks_are_folded_into_the_newest_first_page(instance: Instance) -> None:
    user = await new_user(instance)
    hub = instance.hub
    for index in range(3):
        await _create(instance, user, "tasks", {"title": f"old {index}"})
    async with live(instance, user=user) as client:
        first = await client.subscribe("s", "tasks.list", limit=2)
        assert first["data"]["next_cursor"] is not None
        runs, folded = hub.stats.runs, hub.stats.folded
        for index in range(3):
            data = await _follows(
                instance, user, client, "tasks", "limit=2", {"title": f"new {index}"}
            )
            assert data["data"][0]["title"] == f"new {index}"
        assert hub.stats.runs == runs  # not one query: every result was folded
        assert hub.stats.folded - folded == 3


async def test_oldest_first_page_fills_up_then_only_gains_a_cursor(instance: Instance) -> None:
    user = await new_user(instance)
    hub = instance.hub
    await _create(instance, user, "tasks", {"title": "first"})
    async with live(instance, user=user) as client:
        await client.subscribe("s", "tasks.list", limit=2, sort="created_at")
        runs = hub.stats.runs
        query = "limit=2&sort=created_at"
        filled = await _follows(instance, user, client, "tasks", query, {"title": "second"})
        assert ([t["title"] for t in filled["data"]], filled["next_cursor"]) == (
            ["first", "second"],
            None,
        )
        # A third row lands beyond the page: the rows stay, the page now has a next one.
        beyond = await _follows(instance, user, client, "tasks", query, {"title": "third"})
        assert [t["title"] for t in beyond["data"]] == ["first", "second"]
        assert beyond["next_cursor"] is not None
        await _create(instance, user, "tasks", {"title": "fourth"})  # changes nothing seen
        assert await client.barrier() == []
        assert hub.stats.runs == runs


async def test_events_land_where_their_start_puts_them(instance: Instance) -> None:
    user = await new_user(instance)
    hub = instance.hub
    base = datetime(2030, 1, 1, tzinfo=UTC)

    def event(title: str, days: int) -> dict[str, Any]:
        start = base + timedelta(days=days)
        end = start + timedelta(hours=1)
        return {"title": title, "start_time": start.isoformat(), "end_time": end.isoformat()}

    for title, days in (("a", 0), ("c", 20), ("e", 40)):
        await _create(instance, user, "events", event(title, days))
    async with live(instance, user=user) as client:
        await client.subscribe("s", "events.list", limit=4, sort="start_time")
        runs = hub.stats.runs
        query = "limit=4&sort=start_time"
        for title, days in (("d", 30), ("b", 10), ("0", -5)):
            data = await _follows(instance, user, client, "events", query, event(title, days))
        assert [e["title"] for e in data["data"]] == ["0", "a", "b", "c"]
        assert hub.stats.runs == runs


async def test_a_folded_amount_is_written_as_the_database_stores_it(instance: Instance) -> None:
    """`12.5` comes back from the database as `12.50`: the folded row is the stored one."""
    user = await new_user(instance)
    async with live(instance, user=user) as client:
        await client.subscribe("s", "expenses.list")
        when = datetime(2030, 1, 1, tzinfo=UTC).isoformat()
        body = {"amount": "12.5", "category": "food", "incurred_at": when}
        data = await _follows(instance, user, client, "expenses", "", body)
        assert data["data"][0]["amount"] == "12.50"


async def test_filtered_and_later_pages_run_their_query(instance: Instance) -> None:
    user = await new_user(instance)
    hub = instance.hub
    for index in range(3):
        await _create(instance, user, "tasks", {"title": f"old {index}"})
    cursor = (await _read(instance, user, "tasks", "limit=1"))["next_cursor"]
    async with live(instance, user=user) as client:
        await client.subscribe("s", "tasks.list", is_complete=False)
        await client.subscribe("later", "tasks.list", limit=1, cursor=cursor)
        runs, folded = hub.stats.runs, hub.stats.folded
        await _follows(instance, user, client, "tasks", "is_complete=false", {"title": "new"})
        assert hub.stats.runs - runs == 2  # both lists were read again
        assert hub.stats.folded == folded


async def test_an_insert_announced_after_its_row_changed_runs_the_query(
    instance: Instance,
) -> None:
    """An exact insert folds, unless an update or delete of that row was announced first:
    then the insert is late news (its row changed in between), and the list is read."""
    user = await new_user(instance)
    hub = instance.hub
    bus = instance.app.state.changes
    await _create(instance, user, "tasks", {"title": "real"})
    async with live(instance, user=user) as client:
        first = await client.subscribe("s", "tasks.list")
        row = first["data"]["data"][0]

        def inserted(row_id: uuid.UUID, title: str) -> Change:
            data = {**row, "id": str(row_id), "title": title}
            return Change("tasks", "insert", row_id, user.id, data, exact=True)

        runs, folded = hub.stats.runs, hub.stats.folded
        ghost = uuid.uuid4()
        await bus.publish([inserted(ghost, "ghost")])  # folded: no query
        shown = await client.result("s", lambda d: len(d["data"]) == 2)
        # The same time as the real row's: newest first means the greater id first.
        by_id = sorted(shown["data"]["data"], key=lambda t: uuid.UUID(t["id"]), reverse=True)
        assert shown["data"]["data"] == by_id
        assert {t["title"] for t in by_id} == {"real", "ghost"}
        assert (hub.stats.runs, hub.stats.folded - folded) == (runs, 1)

        late = uuid.uuid4()
        await bus.publish([Change("tasks", "delete", late, user.id)])
        read = await client.result("s", lambda d: len(d["data"]) == 1)  # read: no ghost
        assert read["data"]["data"][0]["title"] == "real"
        runs = hub.stats.runs
        await bus.publish([inserted(late, "late")])
        # Read again (the database has no such row): the same result, so nothing is sent,
        # where a fold would have sent it at once, ahead of the pong.
        assert await client.barrier() == []
        assert hub.stats.runs - runs == 1


def test_changes_from_another_instance_are_never_exact() -> None:
    change = Change("tasks", "insert", uuid.uuid4(), uuid.uuid4(), {"title": "x"}, exact=True)
    [message] = payload.encode("origin", iter(range(1, 10)), [change], 8000)
    [received] = payload.decode(message).changes
    assert received.data == change.data
    assert not received.exact
