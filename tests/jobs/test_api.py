"""Jobs over REST, on the embedded engine: actions start jobs, jobs run and report."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.jobs.conftest import JobsApps, job_in, wait_for


def _async(check: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    async def run() -> object:
        return check()

    return run


async def test_action_runs_and_its_result_is_read_over_rest(jobs_apps: JobsApps) -> None:
    app = await jobs_apps.start()
    client = await jobs_apps.user(app)
    response = await client.post("/api/actions/test.echo", json={"text": "hi", "steps": 3})
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/api/jobs/{job['id']}"
    assert job["kind"] == "test.echo"
    assert job["status"] in ("queued", "running", "succeeded")
    done = await job_in(client, job["id"], "succeeded", "failed")
    assert done["status"] == "succeeded", done
    assert done["result"] == {"echo": "hi", "attempt": 1}
    assert done["progress"] == 100
    assert done["attempts"] == 1
    assert done["started_at"]
    assert done["finished_at"]
    listed = (await client.get("/api/jobs")).json()
    assert [j["id"] for j in listed["data"]] == [job["id"]]
    only_failed = await client.get("/api/jobs", params={"status": "failed"})
    assert only_failed.json()["data"] == []
    by_kind = await client.get("/api/jobs", params={"kind": "test.echo"})
    assert len(by_kind.json()["data"]) == 1


async def test_actions_are_listed_with_their_schema(jobs_apps: JobsApps) -> None:
    app = await jobs_apps.start()
    client = await jobs_apps.user(app)
    actions = {a["name"]: a for a in (await client.get("/api/actions")).json()["data"]}
    assert "test.echo" in actions
    assert "test.tick" not in actions
    assert "jobs.prune" not in actions
    assert actions["test.echo"]["input_schema"]["properties"]["text"]["type"] == "string"
    assert actions["test.echo"]["summary"] == "Echo the text"


async def test_unknown_action_is_404_and_bad_body_422(jobs_apps: JobsApps) -> None:
    app = await jobs_apps.start()
    client = await jobs_apps.user(app)
    missing = await client.post("/api/actions/nope.nothing", json={})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "action_not_found"
    not_action = await client.post("/api/actions/test.tick", json={"gate": "x"})
    assert not_action.status_code == 404
    bad = await client.post("/api/actions/test.echo", json={"text": "", "extra": 1})
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["code"] == "validation_error"
    assert {tuple(d["loc"]) for d in error["details"]} == {("body", "text"), ("body", "extra")}
    not_object = await client.post("/api/actions/test.echo", json=[1, 2])
    assert not_object.status_code == 422
    assert (await client.get("/api/jobs")).json()["data"] == []  # nothing was started


async def test_another_users_job_is_404_everywhere(jobs_apps: JobsApps, gate: Path) -> None:
    app = await jobs_apps.start()
    owner = await jobs_apps.user(app)
    other = await jobs_apps.user(app)
    job = (await owner.post("/api/actions/test.held", json={"gate": str(gate)})).json()
    for response in (
        await other.get(f"/api/jobs/{job['id']}"),
        await other.post(f"/api/jobs/{job['id']}/cancel"),
        await other.get(f"/api/jobs/{uuid.uuid4()}"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "job_not_found"
    assert (await other.get("/api/jobs")).json()["data"] == []
    (gate / "go").touch()
    assert (await job_in(owner, job["id"], "succeeded"))["status"] == "succeeded"


async def test_cancel_a_running_job(jobs_apps: JobsApps, gate: Path) -> None:
    app = await jobs_apps.start()
    client = await jobs_apps.user(app)
    job = (await client.post("/api/actions/test.held", json={"gate": str(gate)})).json()
    await job_in(client, job["id"], "running")
    canceled = await client.post(f"/api/jobs/{job['id']}/cancel")
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    await wait_for(_async(lambda: not app.state.jobs._running), what="the handler stopped")
    again = await client.post(f"/api/jobs/{job['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "job_finished"
    (gate / "go").touch()
    # The handler was stopped at its next await: it never wrote its effect nor finished.
    tasks = (await client.get("/api/tasks")).json()["data"]
    assert not any(t["title"] == f"job:{job['id']}" for t in tasks)
    assert not (gate / f"{job['id']}.done").exists()
    assert (await client.get(f"/api/jobs/{job['id']}")).json()["status"] == "canceled"
