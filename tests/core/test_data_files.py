"""The embedded database holds password hashes and sessions: it is created private."""

from __future__ import annotations

import stat
from pathlib import Path

from everything_app.core import migrations
from everything_app.settings import SECRET_FILE_NAME, Settings


def test_a_new_sqlite_database_and_its_directory_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'app.db'}")
    migrations.upgrade(settings)
    _ = settings.secret  # the generated key lands beside it
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for name in ("app.db", SECRET_FILE_NAME):
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name
