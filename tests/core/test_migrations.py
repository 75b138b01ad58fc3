"""Migrations build exactly the models' schema, and go down and up again, on both databases."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from everything_app.core import migrations
from everything_app.core.db import create_engine
from everything_app.models import metadata
from everything_app.settings import Settings
from tests.conftest import Backends, create_pg_database, drop_pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(
    request: pytest.FixtureRequest, tmp_path: Path, backends: Backends
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    # The run's migrated database made the cluster's roles (under a lock, see
    # migrated_pg_database): these migrations cannot race another process creating them.
    backends.postgresql()
    url = asyncio.run(create_pg_database())
    yield url
    asyncio.run(drop_pg_database(url))


def _inspect(url: str) -> tuple[list[Any], set[str]]:
    async def run() -> tuple[list[Any], set[str]]:
        engine = create_engine(Settings(database_url=url))

        def check(conn: Connection) -> tuple[list[Any], set[str]]:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, metadata), set(inspect(conn).get_table_names())

        try:
            async with engine.connect() as conn:
                return await conn.run_sync(check)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.mark.slow  # the whole chain of migrations, down and up
def test_upgrade_matches_models_and_round_trips(empty_database: str) -> None:
    settings = Settings(database_url=empty_database)
    migrations.upgrade(settings)
    diff, tables = _inspect(empty_database)
    assert diff == []
    assert {t.name for t in metadata.sorted_tables} <= tables

    migrations.downgrade(settings, "base")
    _, tables_after_downgrade = _inspect(empty_database)
    assert tables_after_downgrade <= {"alembic_version"}

    migrations.upgrade(settings)
    diff_again, _ = _inspect(empty_database)
    assert diff_again == []


def test_one_head() -> None:
    """Every migration builds on one line: `alembic revision --autogenerate` refuses to
    guess between several heads (0003, 0004 and 0005 all revised 0002 once)."""
    script = ScriptDirectory.from_config(migrations.alembic_config(Settings()))
    assert len(script.get_heads()) == 1, script.get_heads()


GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "add-a-table.md"
# What the add-a-table guide tells a developer to run, from the checkout's root.
AUTOGENERATE_STEPS = [
    ".venv/bin/everything-app migrate",
    '.venv/bin/alembic revision --autogenerate -m "add notes"',
]


@pytest.mark.slow  # Alembic in new processes
def test_the_guides_autogenerate_finds_models_and_migrations_agree(
    empty_database: str, tmp_path: Path
) -> None:
    """The add-a-table guide's steps for a new migration, run as written in a copy of the checkout:
    they succeed, and with no model changed the generated migration is empty (the
    migrations build exactly the models' schema, seen through autogenerate itself)."""
    guide = GUIDE.read_text()
    for step in AUTOGENERATE_STEPS:
        assert step in guide, f"the add-a-table guide no longer says {step!r}"
    root = Path(__file__).resolve().parents[2]
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy(root / "alembic.ini", checkout)
    shutil.copytree(root / "src", checkout / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (checkout / ".venv").symlink_to(Path(sys.prefix))
    # The copy's own code (the venv may hold an installed copy of another checkout).
    env = {**os.environ, "DATABASE_URL": empty_database, "PYTHONPATH": str(checkout / "src")}
    env["DATA_DIR"] = str(tmp_path / "data")
    for step in AUTOGENERATE_STEPS:
        done = subprocess.run(
            ["bash", "-c", step], cwd=checkout, env=env, capture_output=True, text=True,
            timeout=180, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{step}: {done.stdout}{done.stderr}"
    generated = list((checkout / "src/everything_app/migrations/versions").glob("*_add_notes.py"))
    assert len(generated) == 1
    body = generated[0].read_text()
    upgrade = body.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    statements = [
        line.strip()
        for line in upgrade.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert statements == ["pass"], upgrade
