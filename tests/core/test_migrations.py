"""Migrations build exactly the models' schema, and go down and up again, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from everything_app.core import migrations
from everything_app.core.db import create_engine
from everything_app.models import metadata
from everything_app.settings import Settings
from tests.conftest import (
    PG_URL,
    _pg_reachable,
    create_pg_database,
    drop_pg_database,
    require_service,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    require_service(asyncio.run(_pg_reachable()), f"PostgreSQL is not reachable at {PG_URL}")
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
