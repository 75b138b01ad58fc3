"""Jobs over REST, on the embedded engine: actions start jobs, jobs run and report."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

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


async def test_starting_actions_is_rate_limited_per_user(jobs_apps: JobsApps) -> None:
    app = await jobs_apps.start(rate_limit_actions_user="2/minute")
    client, other = await jobs_apps.user(app), await jobs_apps.user(app)
    bad = await client.post("/api/actions/test.echo", json={"text": ""})
    assert bad.status_code == 422  # refused bodies do not count
    for _ in range(2):
        started = await client.post("/api/actions/test.echo", json={"text": "x"})
        assert started.status_code == 202, started.text
    refused = await client.post("/api/actions/test.echo", json={"text": "x"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) > 0
    assert len((await client.get("/api/jobs")).json()["data"]) == 2  # nothing more started
    assert (await other.post("/api/actions/test.echo", json={"text": "x"})).status_code == 202


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
    job = (
        await client.post("/api/actions/test.held", json={"gate": str(gate), "effect": False})
    ).json()
    await job_in(client, job["id"], "running")
    canceled = await client.post(f"/api/jobs/{job['id']}/cancel")
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    await wait_for(_async(lambda: not app.state.jobs._running), what="the handler stopped")
    again = await client.post(f"/api/jobs/{job['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "job_finished"
    (gate / "go").touch()
    # The handler was stopped at its next await: it never finished.
    assert (gate / f"{job['id']}.started").exists()
    assert not (gate / f"{job['id']}.done").exists()
    assert (await client.get(f"/api/jobs/{job['id']}")).json()["status"] == "canceled"


async def test_metrics_count_jobs_by_kind_and_status(jobs_apps: JobsApps, gate: Path) -> None:
    app = await jobs_apps.start()
    client = await jobs_apps.user(app)

    def metric(text: str, series: str) -> float:
        for line in text.splitlines():
            name, _, value = line.rpartition(" ")
            if name == series:
                return float(value)
        return 0.0

    finished = 'everything_app_jobs_finished_total{kind="test.echo",status="succeeded"}'
    latency = 'everything_app_jobs_queue_latency_seconds_count{kind="test.echo"}'
    before = (await client.get("/metrics")).text
    job = (await client.post("/api/actions/test.echo", json={"text": "m"})).json()
    await job_in(client, job["id"], "succeeded")
    held = (await client.post("/api/actions/test.held", json={"gate": str(gate)})).json()
    await job_in(client, held["id"], "running")

    async def counted() -> str | None:
        text = (await client.get("/metrics")).text
        return (
            text if 'everything_app_jobs{kind="test.held",status="running"} 1.0' in text else None
        )

    after = await wait_for(counted, what="the backlog gauge counts the running job")
    assert metric(after, finished) == metric(before, finished) + 1
    assert metric(after, latency) == metric(before, latency) + 1
    (gate / "go").touch()
    await job_in(client, held["id"], "succeeded")


async def test_each_job_logs_with_its_id(
    jobs_apps: JobsApps, capsys: pytest.CaptureFixture[str]
) -> None:
    app = await jobs_apps.start()
    client = await jobs_apps.user(app)
    ok = (await client.post("/api/actions/test.echo", json={"text": "log"})).json()
    bad = (await client.post("/api/actions/test.fail", json={"permanent": True})).json()
    await job_in(client, ok["id"], "succeeded")
    await job_in(client, bad["id"], "failed")
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    events = {(line["event"], line.get("job_id"), line.get("status")) for line in lines}
    for job, status in ((ok, "succeeded"), (bad, "failed")):
        assert ("job_started", job["id"], None) in events
        assert ("job_finished", job["id"], status) in events
    failed = next(x for x in lines if x["event"] == "job_finished" and x["job_id"] == bad["id"])
    assert failed["error"] == "this cannot work"
    assert failed["kind"] == "test.fail"
    assert failed["attempt"] == 1
