"""The housekeeping kinds through the job engine: a scheduled backup runs once per period
however many instances run, a failing one is retried and then stays failed with its error
(also at /readyz), and a scheduled sweep deletes what is past its time."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from everything_app.auth.models import Session, User
from everything_app.core import backup as backups
from everything_app.core.db import utcnow
from everything_app.core.jobs.models import Job
from tests.conftest import privileged_db
from tests.jobs.conftest import JobsApps, wait_for

pytestmark = pytest.mark.slow  # engines on two instances, pg_dump runs


@pytest.fixture
async def apps(database_url: str, tmp_path: Path) -> AsyncIterator[JobsApps]:
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        yield JobsApps(stack, database_url, tmp_path)


async def _jobs(apps: JobsApps, kind: str) -> list[Job]:
    async with privileged_db(apps.started[0]) as db:
        found = await db.execute(select(Job).where(Job.kind == kind).order_by(Job.run_at))
        return list(found.scalars())


def _finished(jobs: list[Job]) -> bool:
    return bool(jobs) and all(j.status in ("succeeded", "failed") for j in jobs)


async def test_a_scheduled_backup_runs_once_per_period_on_two_instances(
    apps: JobsApps, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    # Both instances run jobs, with the daily schedule; their schedulers are stepped over
    # chosen periods (the clock's own periods are checked below).
    shared: dict[str, Any] = {"backup_dir": folder, "backup_keep": 10, "features": ()}
    first = await apps.start(backup_schedule="0 3 * * *", **shared)
    second = await apps.start(backup_schedule="0 3 * * *", **shared)
    day = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    for period in (day, day + timedelta(days=1)):
        window = (period - timedelta(seconds=1), period + timedelta(seconds=1))
        # Both schedulers see the period begin, at once and then again.
        for _ in range(2):
            await asyncio.gather(*(app.state.jobs.tick(*window) for app in (first, second)))

    async def both_done() -> list[Job] | None:
        jobs = await _jobs(apps, "backup.run")
        return jobs if len(jobs) == 2 and _finished(jobs) else None

    jobs = await wait_for(both_done, what="two scheduled backups")
    assert [j.status for j in jobs] == ["succeeded", "succeeded"]
    assert [j.attempts for j in jobs] == [1, 1]
    assert [j.run_at for j in jobs] == [day, day + timedelta(days=1)]
    assert all(j.user_id is None for j in jobs)
    files = sorted(p.name for p in backups.app_backups(folder))
    assert files == sorted(str((j.result or {})["file"]) for j in jobs)  # one per period
    ready = (await apps.client(second).get("/readyz")).json()["backup"]
    assert ready["status"] == "ok"
    assert ready["file"] in files


async def test_on_the_clock_every_period_gets_exactly_one_backup(
    apps: JobsApps, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    every_second: dict[str, Any] = {
        "backup_schedule": "* * * * * *",
        "backup_dir": folder,
        "backup_keep": 1000,
        "jobs_lease_seconds": 10.0,  # a busy test machine is no dead worker
    }
    for _ in range(2):
        await apps.start(features=(), **every_second)

    async def three_done() -> list[Job] | None:
        jobs = [j for j in await _jobs(apps, "backup.run") if j.status == "succeeded"]
        return jobs if len(jobs) >= 3 else None

    await wait_for(three_done, what="three periods backed up")
    for app in list(apps.started):
        await apps.stop(app)  # graceful: running backups finish
    jobs = await _jobs(apps, "backup.run")
    periods = [j.key for j in jobs]
    assert len(periods) == len(set(periods))  # one job per period
    # A period that began as the instances stopped may still be queued (handed back); every
    # other ran to success and wrote its backup. Delivery is at least once: a job run twice
    # (its lease lost) may have written a second file, never a missing one.
    ran = [j for j in jobs if j.status != "queued"]
    assert len(ran) >= 3
    assert all(j.status == "succeeded" for j in ran), [(j.status, j.error) for j in ran]
    on_disk = {p.name for p in backups.app_backups(folder)}
    assert {str((j.result or {})["file"]) for j in ran} <= on_disk
    assert len(on_disk) <= sum(j.attempts for j in jobs)


async def test_a_failing_scheduled_backup_retries_then_stays_failed_with_its_error(
    apps: JobsApps, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    app = await apps.start(features=(), backup_schedule="0 3 * * *", backup_dir=blocker / "backups")
    period = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    await app.state.jobs.tick(period - timedelta(seconds=1), period)

    async def failed() -> list[Job] | None:
        jobs = await _jobs(apps, "backup.run")
        return jobs if jobs and jobs[0].status == "failed" else None

    (job,) = await wait_for(failed, what="the backup job failed")
    assert job.attempts == 3  # the kind's max_attempts
    assert "Not a directory" in (job.error or "")
    ready = (await apps.client(app).get("/readyz")).json()
    assert ready["status"] == "ok"
    assert ready["backup"]["status"] == "failed"
    assert "Not a directory" in ready["backup"]["error"]
    assert ready["backup"]["consecutive_failures"] == 3


async def test_a_scheduled_sweep_deletes_the_expired_sessions(apps: JobsApps) -> None:
    app = await apps.start(features=(), housekeeping_schedule="* * * * * *")
    now = utcnow()
    async with privileged_db(app) as db:
        user = User(email=f"{uuid.uuid4().hex}@example.com", name="u", password_hash="x")
        db.add(user)
        await db.flush()
        old = Session(
            user_id=user.id, token_hash=uuid.uuid4().hex, expires_at=now - timedelta(days=9)
        )
        live = Session(
            user_id=user.id, token_hash=uuid.uuid4().hex, expires_at=now + timedelta(days=1)
        )
        db.add_all([old, live])
        await db.commit()
        old_id, live_id = old.id, live.id

    async def swept() -> list[Job] | None:
        jobs = await _jobs(apps, "housekeeping.sessions")
        done = [j for j in jobs if j.status == "succeeded" and j.result == {"sessions_deleted": 1}]
        return done or None

    await wait_for(swept, what="the expired session swept")
    async with privileged_db(app) as db:
        assert (await db.get(Session, old_id)) is None
    async with privileged_db(app) as db:
        assert (await db.get(Session, live_id)) is not None
