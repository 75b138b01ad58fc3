"""The scheduled backup kind: timestamped private files in BACKUP_DIR, the BACKUP_KEEP newest
kept (and nothing else touched), a backup that restores, and the last outcome, failed or
not, at /readyz and /metrics on every instance."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from everything_app.core import backup as backups
from everything_app.core.db import create_engine
from everything_app.core.jobs import JobKinds
from everything_app.settings import Settings
from tests.conftest import AppWith, create_pg_database, drop_pg_database, sign_up
from tests.housekeeping.support import run_kind, scraped

pytestmark = pytest.mark.slow  # backups (pg_dump) in new processes

BACKUP = "backup.run"


async def _count(settings: Settings, statement: str) -> int:
    engine = create_engine(settings, owner=True)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(statement))).scalar_one())
    finally:
        await engine.dispose()


async def test_backups_rotate_to_the_newest_keep_private_and_leave_other_files(
    app_with: AppWith, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    running = await app_with(backup_dir=folder, backup_keep=3)
    client = running.client()
    assert (await client.get("/readyz")).json()["backup"] == {"status": "none"}
    await sign_up(client)
    folder.mkdir()
    # Not the app's backups, whatever they look like: never deleted.
    others = ["notes.txt", "everything-app-manual.dump", "everything-app-20200101T000000Z.dump"]
    for name in others:
        (folder / name).write_text("keep me")
    # A temp file of a backup killed long ago goes; a fresh one (a backup running) stays.
    stale = folder / ".everything-app-20200101T000000000000Z.dump.abc123"
    fresh = folder / ".everything-app-20200102T000000000000Z.dump.def456"
    for partial in (stale, fresh):
        partial.write_text("half")
    os.utime(stale, (time.time() - 7 * 86400, time.time() - 7 * 86400))

    written = []
    for _ in range(5):
        result, context = await run_kind(running.app, BACKUP)
        written.append(result["file"])
        assert context.progress_seen[-1][0] == 100
    assert len(set(written)) == 5
    assert sorted(written) == written  # the names sort as the backups were taken

    kept = sorted(p.name for p in backups.app_backups(folder))
    assert kept == written[-3:]
    for name in kept:
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == sorted([*others, *kept, fresh.name])

    ready = (await client.get("/readyz")).json()
    assert ready["status"] == "ok"
    detail = ready["backup"]
    assert detail["status"] == "ok"
    assert detail["file"] == written[-1]
    assert detail["size_bytes"] == (folder / written[-1]).stat().st_size > 0
    assert detail["error"] is None
    assert detail["consecutive_failures"] == 0
    figures = await scraped(client)
    assert figures["everything_app_backup_last_run_failed"] == 0
    assert figures["everything_app_backup_last_size_bytes"] == detail["size_bytes"]
    assert abs(figures["everything_app_backup_last_success_timestamp_seconds"] - time.time()) < 600


async def test_the_default_backup_dir_is_private_inside_data_dir(
    app_with: AppWith, tmp_path: Path
) -> None:
    running = await app_with()
    result, _ = await run_kind(running.app, BACKUP)
    folder = running.settings.data_dir / "backups"
    assert running.settings.resolved_backup_dir == folder
    assert (folder / result["file"]).is_file()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


async def test_a_scheduled_backup_restores_with_the_data(app_with: AppWith, tmp_path: Path) -> None:
    running = await app_with(backup_dir=tmp_path / "b")
    client = running.client()
    for _ in range(3):
        await sign_up(client)
    created = await client.post("/api/keys", json={"name": "kept in the backup"})
    assert created.status_code == 201
    result, _ = await run_kind(running.app, BACKUP)
    path = tmp_path / "b" / result["file"]
    lines: list[str] = []
    if running.settings.is_sqlite:
        target = Settings(database_url=f"sqlite:///{tmp_path / 'restored.db'}", data_dir=tmp_path)
        await asyncio.to_thread(backups.restore, target, path, lines.append)
        await _check(target)
        return
    url = await create_pg_database()
    try:
        target = Settings(database_url=url, data_dir=tmp_path)
        await asyncio.to_thread(backups.restore, target, path, lines.append)
        await _check(target)
    finally:
        await drop_pg_database(url)


async def _check(target: Settings) -> None:
    assert await _count(target, "SELECT count(*) FROM users") == 3
    assert await _count(target, "SELECT count(*) FROM api_keys WHERE name = 'kept in the backup'")


async def test_a_failed_backup_is_recorded_and_shown_on_every_instance(
    app_with: AppWith, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    broken = await app_with(backup_dir=blocker / "backups")  # cannot be created
    healthy = await app_with(backup_dir=tmp_path / "good")  # another instance, same database
    before = (await scraped(broken.client())).get(
        "everything_app_backups_total{outcome=failed}", 0.0
    )

    for _ in range(2):
        with pytest.raises(NotADirectoryError, match="Not a directory"):
            await run_kind(broken.app, BACKUP)
    for running in (broken, healthy):
        client = running.client()
        ready = await client.get("/readyz")
        assert ready.status_code == 200  # a failed backup does not take the instance out
        detail = ready.json()["backup"]
        assert detail["status"] == "failed"
        assert "Not a directory" in detail["error"]
        assert detail["consecutive_failures"] == 2
        assert detail["last_success_at"] is None
        figures = await scraped(client)
        assert figures["everything_app_backup_last_run_failed"] == 1
        assert figures["everything_app_backup_failures_total"] == 2
        assert figures["everything_app_backup_consecutive_failures"] == 2
        assert "everything_app_backup_last_success_timestamp_seconds" not in figures
    figures = await scraped(broken.client())
    assert figures["everything_app_backups_total{outcome=failed}"] == before + 2

    # The next backup that works clears the streak; the failures stay counted.
    await run_kind(healthy.app, BACKUP)
    detail = (await broken.client().get("/readyz")).json()["backup"]
    assert detail["status"] == "ok"
    assert detail["error"] is None
    assert detail["consecutive_failures"] == 0
    figures = await scraped(broken.client())
    assert figures["everything_app_backup_failures_total"] == 2
    assert figures["everything_app_backup_last_run_failed"] == 0


async def test_schedules_come_from_the_settings_and_empty_turns_them_off(
    app_with: AppWith,
) -> None:
    on = await app_with(backup_schedule="30 2 * * *", housekeeping_schedule="5 * * * *")
    off = await app_with(backup_schedule="", housekeeping_schedule="")
    for running, backup, sweep in ((on, "30 2 * * *", "5 * * * *"), (off, None, None)):
        schedules = {s.name: s for s in running.app.state.registry[JobKinds].schedules()}
        assert schedules["backup.daily"].kind == BACKUP
        assert schedules["backup.daily"].cron(running.settings) == backup
        for name in ("housekeeping.sessions", "housekeeping.api_keys", "housekeeping.answers"):
            assert schedules[name].cron(running.settings) == sweep


@pytest.mark.parametrize(
    "value", ["daily", "@daily", "0 3 * *", "0 3 * * * * *", "0 3 * * $", "61 * * * *"]
)
def test_a_malformed_schedule_is_refused_at_start(value: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="backup_schedule"):
        Settings(data_dir=tmp_path, backup_schedule=value)


async def test_on_postgresql_without_the_owner_url_the_failure_says_what_to_set(
    app_with: AppWith,
) -> None:
    first = await app_with()  # empties the database, as its owner
    if first.settings.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite's backup reads the file")
    running = await app_with(migration_database_url=None, backup_dir=first.settings.data_dir / "b")
    with pytest.raises(backups.BackupError, match=r"permission denied|row-level security"):
        await run_kind(running.app, BACKUP)
    detail = (await running.client().get("/readyz")).json()["backup"]
    assert detail["status"] == "failed"
    assert detail["error"].startswith("set BACKUP_DATABASE_URL")
    assert not list((running.settings.resolved_backup_dir).iterdir())  # no half backup left


BACKUP_LOGIN = "ea_test_backup"


async def _ensure_backup_login(url: str) -> None:
    """The role deploy/postgres/roles.sql makes for backups, under a test name (once per
    cluster): it reads everything past row-level security and writes nothing."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            f"""
            DO $$ BEGIN
              CREATE ROLE {BACKUP_LOGIN} LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE
                IN ROLE pg_read_all_data;
            EXCEPTION WHEN duplicate_object THEN NULL;
            END $$
            """
        )
    finally:
        await conn.close()


async def test_on_postgresql_the_read_only_backup_login_backs_up_everything(
    app_with: AppWith, database_url: str, tmp_path: Path
) -> None:
    first = await app_with()  # empties the database, as its owner
    if first.settings.is_sqlite:
        pytest.skip("PostgreSQL only")
    client = first.client()
    for _ in range(2):  # rows of two users: row-level security must not hide either
        await sign_up(client)
    await _ensure_backup_login(database_url)
    scheme, _, rest = database_url.partition("://")
    login = f"{scheme}://{BACKUP_LOGIN}@{rest.partition('@')[2]}"
    worker = await app_with(
        migration_database_url=None, backup_database_url=login, backup_dir=tmp_path / "b"
    )
    result, _ = await run_kind(worker.app, BACKUP)
    url = await create_pg_database()
    try:
        target = Settings(database_url=url, data_dir=tmp_path)
        await asyncio.to_thread(backups.restore, target, tmp_path / "b" / result["file"], print)
        assert await _count(target, "SELECT count(*) FROM users") == 2
        assert await _count(target, "SELECT count(*) FROM sessions") == 2
    finally:
        await drop_pg_database(url)
