"""WORKERS defaults to every core only where the workers share what they must."""

from __future__ import annotations

from pathlib import Path

import pytest

from everything_app.settings import Settings, cores


def test_with_redis_every_core_serves_with_a_pool_shared_among_the_workers(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0")
    assert settings.workers == cores()
    # About 30 connections per instance whatever the number of workers (at least 4 each).
    assert (settings.db_pool_size, settings.db_max_overflow) == (max(4, 30 // cores()), 0)


@pytest.mark.parametrize("database_url", [None, "postgresql://postgres@127.0.0.1/x"])
def test_without_redis_one_worker(tmp_path: Path, database_url: str | None) -> None:
    # SQLite: each worker would hear only its own writes (live queries, revocations);
    # PostgreSQL: rate limits would be counted per worker.
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    assert (settings.workers, settings.db_pool_size, settings.db_max_overflow) == (1, 30, 0)


def test_workers_and_pool_given_explicitly_are_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, workers=3, db_pool_size=7)
    assert (settings.workers, settings.db_pool_size, settings.db_max_overflow) == (3, 7, 0)
