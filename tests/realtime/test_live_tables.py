"""The other features' live queries: owned tables with their filters, and the service queue."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import make_admin
from tests.realtime.support import Instance, User, ids, live, new_user


async def test_owned_lists_follow_their_filters(instance: Instance) -> None:
    user, other = await new_user(instance), await new_user(instance)
    async with live(instance, user=user) as client, live(instance, user=other) as bystander:
        assert (await client.subscribe("open", "tasks.list", is_complete=False))["version"] == 1
        assert (await client.subscribe("done", "tasks.list", is_complete=True))["version"] == 1
        await client.subscribe("events", "events.list")
        await bystander.subscribe("open", "tasks.list", is_complete=False)
        async with instance.http(**user.bearer) as http:
            created = await http.post("/api/tasks", json={"title": "Pay rent"})
            assert created.status_code == 201, created.text
            task = created.json()
            await client.result("open", lambda d: ids(d) == [task["id"]])

            done = await http.patch(f"/api/tasks/{task['id']}", json={"is_complete": True})
            assert done.status_code == 200
            await client.result("open", lambda d: d["data"] == [])  # stopped matching
            await client.result("done", lambda d: ids(d) == [task["id"]])

            await http.delete(f"/api/tasks/{task['id']}")
            await client.result("done", lambda d: d["data"] == [])
        assert await bystander.barrier() == []
        bad = await client.subscribe("bad", "tasks.list", is_complete="perhaps")
        assert bad["code"] == "invalid_args"


async def _promote(instance: Instance, user: User) -> None:
    await make_admin(instance.app, user.id)


async def test_the_queue_moves_live(instance: Instance) -> None:
    admin, customer = await new_user(instance), await new_user(instance)
    await _promote(instance, admin)
    async with instance.http(**admin.bearer) as http:
        service = await http.post("/api/services", json={"name": "Haircut", "duration_minutes": 30})
        assert service.status_code == 201, service.text
        service_id = service.json()["id"]
        args: dict[str, Any] = {"service_id": service_id}
        async with live(instance, user=admin) as desk, live(instance, user=customer) as phone:
            first = await desk.subscribe("q", "queue.position", **args)
            assert (first["data"]["waiting_count"], first["data"]["entries"]) == (0, [])
            await phone.subscribe("q", "queue.position", **args)

            for label in ("Ann", "Bob"):
                joined = await http.post(f"/api/queues/{service_id}/join", json={"label": label})
                assert joined.status_code == 201, joined.text
            queued = await desk.result("q", lambda d: d["waiting_count"] == 2)
            assert [e["label"] for e in queued["data"]["entries"]] == ["Ann", "Bob"]
            # Customers see the queue move (counts), never the other people in it.
            seen = await phone.result("q", lambda d: d["waiting_count"] == 2)
            assert seen["data"]["entries"] == []

            assert (await http.post(f"/api/queues/{service_id}/advance")).status_code == 200
            serving = await desk.result("q", lambda d: d["now_serving"] is not None)
            assert serving["data"]["entries"][0]["status"] == "in_service"
            await phone.result("q", lambda d: d["waiting_count"] == 1)

            missing = await phone.subscribe("x", "queue.position", service_id=str(uuid.uuid4()))
            assert missing["code"] == "not_found"
