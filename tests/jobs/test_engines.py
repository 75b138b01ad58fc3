"""The engine end to end, embedded and on a Redis stream (RabbitMQ for delivery): live
progress, retries, cancel, graceful stop, restarts."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from everything_app.core.db import unit_of_work, utcnow
from everything_app.core.jobs import Job, enqueue
from tests.conftest import privileged_db
from tests.jobs.conftest import JobsApps, _drop_engine_state, engine_settings, job_in, wait_for
from tests.realtime.support import live, new_user, serve_instance


async def test_progress_and_result_arrive_in_order_over_a_live_query(
    jobs_apps: JobsApps, engine: dict[str, Any], gate: Path
) -> None:
    app = await jobs_apps.start(**engine)
    instance = await serve_instance(jobs_apps.stack, app)
    user = await new_user(instance)
    async with instance.http(**user.bearer) as http:
        started = await http.post(
            "/api/actions/test.echo", json={"text": "hi", "steps": 5, "gate": str(gate)}
        )
        assert started.status_code == 202, started.text
        job = started.json()
        async with live(instance, user=user) as client:
            first = await client.subscribe("j", "jobs.get", id=job["id"])
            assert first["type"] == "result", first
            listed = await client.subscribe("all", "jobs.list")
            assert [j["id"] for j in listed["data"]["data"]] == [job["id"]]
            (gate / f"{job['id']}.go").touch()
            seen = [first["data"]]
            while seen[-1]["status"] not in ("succeeded", "failed"):
                seen.append((await client.result("j"))["data"])
            done = await client.result("all", lambda d: d["data"][0]["status"] == "succeeded")
        final = (await http.get(f"/api/jobs/{job['id']}")).json()
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress), seen  # never backwards
    steps = [s["message"] for s in seen if s["message"]]
    assert steps == sorted(steps), seen  # "step 1" … "step 5", in order, some maybe coalesced
    assert seen[-1]["status"] == "succeeded"
    assert seen[-1]["result"] == {"echo": "hi", "attempt": 1}
    assert done["data"]["data"][0]["progress"] == 100
    assert final == seen[-1]


async def test_delivery_over_rabbitmq(jobs_apps: JobsApps, gate: Path) -> None:
    overrides = await engine_settings("amqp")
    try:
        app = await jobs_apps.start(**overrides)
        client = await jobs_apps.user(app)
        jobs = [
            (await client.post("/api/actions/test.echo", json={"text": f"n{i}"})).json()
            for i in range(5)
        ]
        for i, job in enumerate(jobs):
            done = await job_in(client, job["id"], "succeeded", "failed")
            assert done["result"] == {"echo": f"n{i}", "attempt": 1}
    finally:
        for app in jobs_apps.started:
            await jobs_apps.stop(app)
        await _drop_engine_state(overrides)


async def test_a_failing_job_retries_with_backoff_then_stays_failed(
    jobs_apps: JobsApps, engine: dict[str, Any], gate: Path
) -> None:
    app = await jobs_apps.start(**engine)
    client = await jobs_apps.user(app)
    job = (await client.post("/api/actions/test.fail", json={"gate": str(gate)})).json()
    failed = await job_in(client, job["id"], "failed")
    assert failed["attempts"] == 3  # the kind's max_attempts
    assert failed["error"] == "RuntimeError: boom 3"
    assert failed["finished_at"]
    times = [float(t) for t in (gate / f"{job['id']}.attempts").read_text().split()]
    assert len(times) == 3
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # JOBS_RETRY_BASE_SECONDS=0.2: 0.2 s then 0.4 s, each -20 % jitter at worst.
    assert gaps[0] >= 0.16, gaps
    assert gaps[1] >= 0.32, gaps
    permanent = (await client.post("/api/actions/test.fail", json={"permanent": True})).json()
    done = await job_in(client, permanent["id"], "failed")
    assert done["attempts"] == 1
    assert done["error"] == "this cannot work"


async def test_cancel_a_queued_job(jobs_apps: JobsApps, engine: dict[str, Any]) -> None:
    app = await jobs_apps.start(**engine)
    client = await jobs_apps.user(app)
    user_id = uuid.UUID((await client.get("/api/auth/get-session")).json()["user"]["id"])
    async with unit_of_work(app.state.sessionmaker, write=True, user_id=user_id) as db:
        job_id = await enqueue(
            db,
            "test.echo",
            {"text": "never"},
            user_id=user_id,
            run_at=utcnow() + timedelta(seconds=1),
        )
    canceled = await client.post(f"/api/jobs/{job_id}/cancel")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    # Past its run_at it is still canceled and never started (the scheduler skips it).
    later = utcnow() + timedelta(seconds=1.2)

    async def past_due() -> bool:
        return utcnow() > later

    await wait_for(past_due)
    job = (await client.get(f"/api/jobs/{job_id}")).json()
    assert job["status"] == "canceled"
    assert job["started_at"] is None
    assert job["attempts"] == 0


async def test_graceful_stop_hands_a_running_job_back(
    jobs_apps: JobsApps, engine: dict[str, Any], gate: Path
) -> None:
    first = await jobs_apps.start(**engine, jobs_shutdown_grace=0.3)
    client = await jobs_apps.user(first)
    job = (await client.post("/api/actions/test.held", json={"gate": str(gate)})).json()
    await job_in(client, job["id"], "running")
    await jobs_apps.stop(first)
    async with privileged_db(first) as db:
        row = (await db.execute(select(Job).where(Job.id == uuid.UUID(job["id"])))).scalar_one()
    assert row.status == "queued"
    assert row.attempts == 0  # handed back: that attempt does not count
    assert row.lease_owner is None
    (gate / "go").touch()
    second = await jobs_apps.start(**engine)
    done = await _job_via(second, job["id"])
    assert done.status == "succeeded"
    assert done.attempts == 1


async def test_the_embedded_queue_runs_a_job_queued_before_a_restart(
    jobs_apps: JobsApps,
) -> None:
    # A server that runs no jobs (as if it stopped before running them) leaves one queued.
    first = await jobs_apps.start(jobs_broker_url="memory", run_jobs=False)
    client = await jobs_apps.user(first)
    job = (await client.post("/api/actions/test.echo", json={"text": "later"})).json()
    assert (await client.get(f"/api/jobs/{job['id']}")).json()["status"] == "queued"
    await jobs_apps.stop(first)
    second = await jobs_apps.start(jobs_broker_url="memory")
    done = await _job_via(second, job["id"])
    assert done.status == "succeeded"
    assert done.result == {"echo": "later", "attempt": 1}


async def _job_via(app: Any, job_id: str) -> Job:
    async def finished() -> Job | None:
        async with privileged_db(app) as db:
            row = (await db.execute(select(Job).where(Job.id == uuid.UUID(job_id)))).scalar_one()
        return row if row.status in ("succeeded", "failed") else None

    found: Job = await wait_for(finished)
    return found
