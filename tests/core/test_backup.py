"""Backups round-trip a database full of data while writes continue; restore asks first."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from everything_app.auth.models import ApiKey
from everything_app.core import backup as backups
from everything_app.core.db import create_engine
from everything_app.settings import Settings
from tests.conftest import (
    SignedIn,
    asgi_client,
    create_pg_database,
    drop_pg_database,
    make_settings,
    migrated_pg_database,
    privileged_db,
    sign_up,
    start_app,
)

pytestmark = pytest.mark.slow  # backups and restores in new processes


async def _count(settings: Settings, statement: str) -> int:
    engine = create_engine(settings, owner=True)  # the owner sees every user's rows
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(statement))).scalar_one())
    finally:
        await engine.dispose()


async def test_backup_while_writing_then_restore(
    app: FastAPI, signed_in: SignedIn, settings: Settings, tmp_path: Path
) -> None:
    clients = [await signed_in() for _ in range(5)]
    for client in clients:
        for i in range(5):
            assert (await client.post("/api/keys", json={"name": f"k{i}"})).status_code == 201
    stop = asyncio.Event()

    async def keep_writing(client: httpx.AsyncClient) -> int:
        written = 0
        while not stop.is_set():
            response = await client.post("/api/keys", json={"name": "during backup"})
            written += response.status_code == 201
            await asyncio.sleep(0)
        return written

    writer = asyncio.create_task(keep_writing(await signed_in()))
    await asyncio.sleep(0)
    lines: list[str] = []
    destination = tmp_path / "backup.dump"
    await asyncio.to_thread(backups.backup, settings, destination, lines.append)
    stop.set()
    await writer
    assert lines  # progress was shown
    async with privileged_db(app) as db:
        keys_now = (await db.execute(select(func.count()).select_from(ApiKey))).scalar_one()

    with_data_error = None
    try:
        backups.backup(settings, destination, lines.append)
    except backups.BackupError as exc:
        with_data_error = str(exc)
    assert with_data_error is not None
    assert "--force" in with_data_error

    if settings.is_sqlite:
        target = Settings(database_url=f"sqlite:///{tmp_path / 'restored.db'}", data_dir=tmp_path)
        await asyncio.to_thread(backups.restore, target, destination, lines.append)
        await _check_restored(target, keys_now)
    else:
        url = await create_pg_database()
        try:
            target = Settings(database_url=url, data_dir=tmp_path)
            await asyncio.to_thread(backups.restore, target, destination, lines.append)
            await _check_restored(target, keys_now)
        finally:
            await drop_pg_database(url)


async def _check_restored(target: Settings, keys_now: int) -> None:
    users = await _count(target, "SELECT count(*) FROM users")
    keys = await _count(target, "SELECT count(*) FROM api_keys")
    orphans = await _count(
        target,
        "SELECT count(*) FROM api_keys k LEFT JOIN users u ON u.id = k.user_id WHERE u.id IS NULL",
    )
    assert users == 6
    assert keys >= 25
    assert keys <= keys_now  # a consistent snapshot taken mid-writes
    assert orphans == 0


async def test_restore_refuses_to_overwrite_without_confirmation(
    signed_in: SignedIn, settings: Settings, tmp_path: Path
) -> None:
    await signed_in()
    destination = tmp_path / "b.dump"
    await asyncio.to_thread(backups.backup, settings, destination, lambda _: None)
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "DATA_DIR": str(tmp_path / "data"),
    }
    refused = await asyncio.to_thread(
        subprocess.run,
        # --force: the app is running; this is about the data it would replace.
        [sys.executable, "-m", "everything_app", "restore", str(destination), "--force"],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=False, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "--yes" in refused.stderr


async def test_backups_are_private_to_their_owner(
    signed_in: SignedIn, settings: Settings, tmp_path: Path
) -> None:
    await signed_in()  # a password hash to protect
    folder = tmp_path / "backups"
    folder.mkdir()
    destination = folder / "b.dump"
    await asyncio.to_thread(backups.backup, settings, destination, lambda _: None)
    assert stat.S_IMODE(destination.stat().st_mode) == 0o600
    # Overwriting a readable file leaves a private one; no temp file is left behind.
    destination.chmod(0o644)
    await asyncio.to_thread(backups.backup, settings, destination, lambda _: None, force=True)
    assert stat.S_IMODE(destination.stat().st_mode) == 0o600
    assert [p.name for p in folder.iterdir()] == ["b.dump"]


@pytest.fixture
async def own_database(database_url: str) -> AsyncIterator[str]:
    """A database of this test's own (a restore replaces it whole): the SQLite copy, or a
    new migrated PostgreSQL database; its owner's URL."""
    if not database_url.startswith("postgres"):
        yield database_url
        return
    url = await migrated_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(url)


async def test_restore_refused_while_a_server_uses_the_database(
    own_database: str, tmp_path: Path
) -> None:
    settings = make_settings(own_database, tmp_path)
    env = {**os.environ, "DATABASE_URL": own_database, "DATA_DIR": str(tmp_path / "data")}

    def restore(*flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "everything_app", "restore", str(destination), *flags],
            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=False,
            timeout=120,
        )  # fmt: skip

    destination = tmp_path / "b.dump"
    async with AsyncExitStack() as stack:
        app = await start_app(stack, settings)  # a serving process: its lifespan runs
        async with asgi_client(app) as client:
            await sign_up(client)
        await asyncio.to_thread(backups.backup, settings, destination, lambda _: None)
        refused = await asyncio.to_thread(restore, "--yes")
        assert refused.returncode == 1
        assert "restore refused: A server is using" in refused.stderr
        assert "--force" in refused.stderr
        assert "Traceback" not in refused.stderr
        forced = await asyncio.to_thread(restore, "--yes", "--force")
        assert forced.returncode == 0, forced.stderr
    # The server stopped: nothing holds the database any more.
    allowed = await asyncio.to_thread(restore, "--yes")
    assert allowed.returncode == 0, allowed.stderr
    assert "restored" in allowed.stdout
