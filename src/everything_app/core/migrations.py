"""Run Alembic from code: `everything-app migrate`, start-up auto-migration, tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncConnection

from everything_app.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    url = settings.resolved_migration_database_url
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    # The migrations grant data access to this role (PostgreSQL, see core.rls).
    config.set_main_option("runtime_role", settings.db_runtime_role)
    return config


# "heads": features may add independent branches of migrations (each from the revision it
# builds on); upgrading applies all of them.
def upgrade(settings: Settings, revision: str = "heads") -> None:
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)


async def upgrade_on(
    connection: AsyncConnection, settings: Settings, revision: str = "head"
) -> None:
    """Upgrade through an already open async connection (used inside a running event loop)."""

    def run(sync_connection: object) -> None:
        config = alembic_config(settings)
        config.attributes["connection"] = sync_connection
        command.upgrade(config, revision)

    await connection.run_sync(run)
