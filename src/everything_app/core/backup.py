"""Backups and restores of the whole database.

SQLite goes through its online backup API: the copy is a consistent snapshot even while the
server keeps writing (the API restarts a step when a page it copied changes). PostgreSQL goes
through pg_dump / pg_restore in their custom format (consistent by MVCC snapshot).

A backup holds password hashes and session/key hashes: it is written private to its owner
(0600, like the secret key), through a private temp file renamed into place, so no reader
ever sees it, whole or half-written, with wider rights.

A restore swaps the data under whoever uses the database, so it refuses while a server does
(`DatabaseInUse`; `--force` overrides). How a server is seen: on SQLite every serving process
holds a shared `flock` on `<database>.serve-lock` for its lifetime (`hold_serving_lock`, in
the app's lifespan) and a restore takes it exclusively, without waiting; on PostgreSQL the
server's connections carry an `application_name` (core.db) that a restore looks for in
`pg_stat_activity`.

Scheduled backups (the housekeeping feature's job) are named `everything-app-<UTC time>.<kind>`
in BACKUP_DIR (`scheduled_backup`), and only files of that name are ever rotated away
(`rotate`), with the temp files a killed backup left behind (`remove_stale_partials`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from everything_app.settings import Settings

Progress = Callable[[str], None]
PAGES_PER_STEP = 1024


class BackupError(Exception):
    pass


class DatabaseInUse(BackupError):
    """A server is using the database that a restore would overwrite."""


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


def _dump_url(settings: Settings) -> str:
    """Whom pg_dump logs in as: BACKUP_DATABASE_URL (a read-only login past row-level
    security), else the owner's URL."""
    if not settings.backup_database_url:
        return _libpq_url(settings)
    url = make_url(settings.backup_database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _sqlite_copy(
    source: sqlite3.Connection, target: sqlite3.Connection, progress: Progress
) -> None:
    def report(_status: int, remaining: int, total: int) -> None:
        if total:
            progress(f"{total - remaining}/{total} pages ({100 * (total - remaining) // total}%)")

    source.backup(target, pages=PAGES_PER_STEP, progress=report)


BACKUP_PREFIX = "everything-app-"
# e.g. everything-app-20261130T030000123456Z.sqlite3: the UTC time to the microsecond, so the
# names sort as the backups were taken and two never collide.
_BACKUP_NAME = re.compile(r"^everything-app-\d{8}T\d{12}Z\.(sqlite3|dump)$")
# What `_private_file_for` calls its temp file beside a scheduled backup.
_PARTIAL_NAME = re.compile(r"^\.everything-app-\d{8}T\d{12}Z\.(sqlite3|dump)\..+$")


def backup_name(settings: Settings, at: datetime) -> str:
    """The file name of a scheduled backup taken at `at`."""
    kind = "sqlite3" if settings.is_sqlite else "dump"
    return f"{BACKUP_PREFIX}{at.astimezone(UTC):%Y%m%dT%H%M%S%f}Z.{kind}"


def scheduled_backup(settings: Settings, at: datetime, progress: Progress) -> Path:
    """Back up into BACKUP_DIR (made private, 0700, if missing) under `backup_name`; returns
    the file. Blocking (SQLite's copy, or waiting for pg_dump): run it in a thread."""
    directory = settings.resolved_backup_dir
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    destination = directory / backup_name(settings, at)
    backup(settings, destination, progress)
    return destination


def app_backups(directory: Path) -> list[Path]:
    """The scheduled backups in `directory`, newest first (no other file)."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if _BACKUP_NAME.match(p.name) and p.is_file()]
    return sorted(found, key=lambda p: p.name, reverse=True)


def rotate(directory: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest scheduled backups in `directory`; returns the deleted.
    Files of any other name are never touched."""
    deleted = []
    for old in app_backups(directory)[keep:]:
        old.unlink(missing_ok=True)  # another instance may have rotated it already
        deleted.append(old)
    return deleted


def remove_stale_partials(directory: Path, older_than: timedelta, now: datetime) -> list[Path]:
    """Delete the temp files of scheduled backups that were killed mid-way (not modified for
    `older_than`: a running backup keeps writing its own)."""
    if not directory.is_dir():
        return []
    cutoff = (now - older_than).timestamp()
    deleted = []
    for path in directory.iterdir():
        if _PARTIAL_NAME.match(path.name) and path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted.append(path)
    return deleted


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
    with _private_file_for(destination) as temporary:
        if settings.is_sqlite:
            # SQLite gives a journal the rights of its database file: private too.
            with sqlite3.connect(source_path) as source, sqlite3.connect(temporary) as target:
                _sqlite_copy(source, target, progress)
            return
        _run_pg(
            ["pg_dump", "--format=custom", "--verbose", "--file", str(temporary),
             _dump_url(settings)],
            progress,
        )  # fmt: skip


@contextlib.contextmanager
def _private_file_for(destination: Path) -> Iterator[Path]:
    """An empty file with mode 0600 beside `destination`, renamed onto it if the block
    succeeds (removed if not): the backup never exists with wider rights, even briefly."""
    fd, name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.")
    os.close(fd)  # mkstemp made it 0600 whatever the umask; writers reopen it by name
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o600)  # in case a writer replaced the file instead of reusing it
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)


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


def restore(settings: Settings, source: Path, progress: Progress, *, force: bool = False) -> None:
    """Replace the database's content with the backup's (the caller confirmed). Refuses
    with DatabaseInUse while a server uses the database, unless `force`."""
    if not source.exists():
        raise BackupError(f"There is no backup at {source}.")
    if settings.is_sqlite:
        target_path = _sqlite_path(settings)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:
            if not force:  # held while restoring: a server starting now waits for it
                stack.enter_context(_exclusive_lock(target_path))
            with sqlite3.connect(source) as backup_db, sqlite3.connect(target_path) as target:
                _sqlite_copy(backup_db, target, progress)
        return
    if not force:
        ensure_not_in_use(settings)
    _run_pg(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--verbose", "--single-transaction",
         "--dbname", _libpq_url(settings), str(source)],
        progress,
    )  # fmt: skip


def ensure_not_in_use(settings: Settings) -> None:
    """Raise DatabaseInUse if a server is using the database right now."""
    if settings.is_sqlite:
        with _exclusive_lock(_sqlite_path(settings)):
            return
    from everything_app.core.db import SERVING_APPLICATION_NAMES  # (imports FastAPI)

    servers = asyncio.run(_pg_servers(_libpq_url(settings), SERVING_APPLICATION_NAMES))
    if servers:
        raise DatabaseInUse(
            f"A server is using this database ({servers} connection(s) named "
            f"{' or '.join(SERVING_APPLICATION_NAMES)} in pg_stat_activity). Stop it first, "
            "or pass --force to restore under it."
        )


def _lock_path(database: Path) -> Path:
    database = database.resolve()  # one lock whichever way the path was written
    return database.with_name(database.name + ".serve-lock")


def _open_lock(database: Path) -> int:
    database.parent.mkdir(parents=True, exist_ok=True)
    return os.open(_lock_path(database), os.O_RDWR | os.O_CREAT, 0o600)


@contextlib.contextmanager
def hold_serving_lock(settings: Settings) -> Iterator[None]:
    """Held by every serving process (shared, so workers and instances coexist) for its
    lifetime: tells a restore that the SQLite database is in use. Waits while a restore
    holds it exclusively. Released by the kernel if the process dies. PostgreSQL: nothing."""
    if not settings.is_sqlite:
        yield
        return
    database = make_url(settings.resolved_database_url).database
    if not database or database == ":memory:":
        yield
        return
    fd = _open_lock(Path(database))
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


@contextlib.contextmanager
def _exclusive_lock(database: Path) -> Iterator[None]:
    fd = _open_lock(database)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(
                f"A server is using {database} (it holds {_lock_path(database).name}). "
                "Stop it first, or pass --force to restore under it."
            ) from None
        yield
    finally:
        os.close(fd)


async def _pg_servers(url: str, names: tuple[str, ...]) -> int:
    """Connections of a server (core.db's application names) to this database, not ours."""
    conn = await asyncpg.connect(url)
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND application_name = ANY($1::text[])",
            list(names),
        )
        return int(found)
    finally:
        await conn.close()


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
