"""Backups and restores of the whole database.

SQLite goes through its online backup API: the copy is a consistent snapshot even while the
server keeps writing (the API restarts a step when a page it copied changes). PostgreSQL goes
through pg_dump / pg_restore in their custom format (consistent by MVCC snapshot).
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from everything_app.settings import Settings

Progress = Callable[[str], None]
PAGES_PER_STEP = 1024


class BackupError(Exception):
    pass


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.resolved_database_url).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(database)


def _libpq_url(settings: Settings) -> str:
    """The owner's URL (MIGRATION_DATABASE_URL, else DATABASE_URL) for pg_dump/pg_restore,
    in libpq's own scheme. The runtime role sees only one user's rows at a time."""
    url = make_url(settings.resolved_migration_database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _sqlite_copy(
    source: sqlite3.Connection, target: sqlite3.Connection, progress: Progress
) -> None:
    def report(_status: int, remaining: int, total: int) -> None:
        if total:
            progress(f"{total - remaining}/{total} pages ({100 * (total - remaining) // total}%)")

    source.backup(target, pages=PAGES_PER_STEP, progress=report)


def backup(
    settings: Settings, destination: Path, progress: Progress, *, force: bool = False
) -> None:
    if destination.exists() and not force:
        raise BackupError(f"{destination} exists; pass --force to overwrite it.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    if settings.is_sqlite:
        source_path = _sqlite_path(settings)
        if not source_path.exists():
            raise BackupError(f"There is no database at {source_path}.")
        destination.unlink(missing_ok=True)
        with sqlite3.connect(source_path) as source, sqlite3.connect(destination) as target:
            _sqlite_copy(source, target, progress)
        return
    _run_pg(
        [
            "pg_dump",
            "--format=custom",
            "--verbose",
            "--file",
            str(destination),
            _libpq_url(settings),
        ],
        progress,
    )


def database_has_data(settings: Settings) -> bool:
    """Whether restoring would overwrite anything: any user exists."""
    if settings.is_sqlite:
        path = _sqlite_path(settings)
        if not path.exists():
            return False
        with sqlite3.connect(path) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            if "users" not in tables:
                return False
            return conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
    return asyncio.run(_pg_has_users(_libpq_url(settings)))


async def _pg_has_users(url: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        if not await conn.fetchval("SELECT to_regclass('users') IS NOT NULL"):
            return False
        return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM users)"))
    finally:
        await conn.close()


def restore(settings: Settings, source: Path, progress: Progress) -> None:
    """Replace the database's content with the backup's (the caller confirmed)."""
    if not source.exists():
        raise BackupError(f"There is no backup at {source}.")
    if settings.is_sqlite:
        target_path = _sqlite_path(settings)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as backup_db, sqlite3.connect(target_path) as target:
            _sqlite_copy(backup_db, target, progress)
        return
    _run_pg(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--verbose", "--single-transaction",
         "--dbname", _libpq_url(settings), str(source)],
        progress,
    )  # fmt: skip


def _run_pg(command: list[str], progress: Progress) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (it comes with the PostgreSQL client).")
    # The command is ours (pg_dump/pg_restore); the URL comes from the operator's settings.
    errors: list[str] = []
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as process:  # noqa: S603
        assert process.stderr is not None
        for line in process.stderr:
            line = line.rstrip()
            if "error" in line.lower():
                errors.append(line)
            progress(line.removeprefix(f"{command[0]}: "))
    if process.returncode != 0:
        raise BackupError(f"{command[0]} failed: {'; '.join(errors[-3:]) or 'see its output'}")
