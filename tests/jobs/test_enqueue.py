"""`enqueue` and `cancel_queued`: rows in the caller's unit of work, messages after commit."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from everything_app.core.db import unit_of_work, utcnow
from everything_app.core.jobs import Job, cancel_queued, enqueue
from tests.conftest import privileged_db
from tests.jobs.conftest import JobsApps, job_in, wait_for


async def _user_id(client: httpx.AsyncClient) -> str:
    return str((await client.get("/api/auth/get-session")).json()["user"]["id"])


async def test_a_key_makes_enqueue_idempotent_and_cancel_queued_cancels_by_prefix(
    jobs_apps: JobsApps,
) -> None:
    app = await jobs_apps.start()
    client = await jobs_apps.user(app)
    user_id = uuid.UUID(await _user_id(client))
    later = utcnow() + timedelta(hours=1)
    async with unit_of_work(app.state.sessionmaker, write=True, user_id=user_id) as db:
        first = await enqueue(
            db, "test.echo", {"text": "a"}, user_id=user_id, run_at=later, key="remind:r1:1"
        )
        again = await enqueue(
            db, "test.echo", {"text": "b"}, user_id=user_id, run_at=later, key="remind:r1:1"
        )
        second = await enqueue(
            db, "test.echo", {"text": "c"}, user_id=user_id, run_at=later, key="remind:r1:2"
        )
        other = await enqueue(
            db, "test.echo", {"text": "d"}, user_id=user_id, run_at=later, key="remind:r10:1"
        )
    assert again == first
    assert second != first
    async with unit_of_work(app.state.sessionmaker, write=True, user_id=user_id) as db:
        assert await cancel_queued(db, key_prefix="remind:r1:") == 2
    statuses = {j["id"]: j["status"] for j in (await client.get("/api/jobs")).json()["data"]}
    assert statuses == {
        str(first): "canceled",
        str(second): "canceled",
        str(other): "queued",
    }
    # A canceled key stays taken: enqueueing it again returns the canceled job.
    async with unit_of_work(app.state.sessionmaker, write=True, user_id=user_id) as db:
        assert (
            await enqueue(db, "test.echo", {"text": "e"}, user_id=user_id, key="remind:r1:1")
            == first
        )
        assert await cancel_queued(db, key_prefix="remind:r1_") == 0  # `_` is no wildcard


async def test_nothing_is_sent_when_the_work_rolls_back(jobs_apps: JobsApps) -> None:
    app = await jobs_apps.start()
    client = await jobs_apps.user(app)
    user_id = uuid.UUID(await _user_id(client))

    async def rolled_back() -> None:
        async with unit_of_work(app.state.sessionmaker, write=True, user_id=user_id) as db:
            await enqueue(db, "test.echo", {"text": "x"}, user_id=user_id)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await rolled_back()
    async with unit_of_work(app.state.sessionmaker, write=True, user_id=user_id) as db:
        kept = await enqueue(db, "test.echo", {"text": "y"}, user_id=user_id)
    await job_in(client, str(kept), "succeeded")
    async with privileged_db(app) as db:
        rows = (await db.execute(select(Job.id))).scalars().all()
    assert rows == [kept]


async def test_a_system_job_runs_and_only_admins_see_it(jobs_apps: JobsApps) -> None:
    from tests.conftest import make_admin

    app = await jobs_apps.start()
    user = await jobs_apps.user(app)
    admin = await jobs_apps.user(app)
    admin_id = await _user_id(admin)
    await make_admin(app, admin_id)

    async def promoted() -> bool:
        session = (await admin.get("/api/auth/get-session")).json()
        return bool(session["user"]["role"] == "admin")

    await wait_for(promoted, what="the promotion reached the credential cache")
    async with unit_of_work(app.state.sessionmaker, write=True) as db:
        job_id = await enqueue(db, "jobs.prune", {}, user_id=None)
    done = await job_in(admin, str(job_id), "succeeded", "failed")
    assert done["status"] == "succeeded", done
    assert done["result"] == {"deleted": 0}
    assert (await user.get(f"/api/jobs/{job_id}")).status_code == 404
    assert [j["id"] for j in (await admin.get("/api/jobs")).json()["data"]] == [str(job_id)]


async def test_a_delayed_job_runs_once_due(jobs_apps: JobsApps) -> None:
    app = await jobs_apps.start()
    client = await jobs_apps.user(app)
    user_id = uuid.UUID(await _user_id(client))
    run_at = utcnow() + timedelta(seconds=0.5)
    async with unit_of_work(app.state.sessionmaker, write=True, user_id=user_id) as db:
        job_id = await enqueue(db, "test.echo", {"text": "later"}, user_id=user_id, run_at=run_at)
    done = await job_in(client, str(job_id), "succeeded")
    from everything_app.core.timestamps import parse_instant

    assert parse_instant(done["started_at"]) >= run_at


async def test_an_unknown_kind_is_refused(jobs_apps: JobsApps) -> None:
    app = await jobs_apps.start()
    async with unit_of_work(app.state.sessionmaker, write=True) as db:
        with pytest.raises(ValueError, match="unknown job kind"):
            await enqueue(db, "no.such", {}, user_id=None)
    _ = wait_for
