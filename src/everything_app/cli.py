"""`everything-app`: serve · worker · migrate · create-admin · backup · restore.

Each command imports what it needs when it runs: `--help` loads no settings and no app, and
`migrate`, `backup`, `create-admin` never load the HTTP routes or the AI SDKs, so a command
starts in a fraction of a second (`bench/cli_startup.py` measures it; `tests/test_cli.py`
keeps it so).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from everything_app.settings import Settings

cli = typer.Typer(
    help="Everything-App: one backend for AI-powered applications.", no_args_is_help=True
)


def _settings() -> Settings:
    """The settings, validated (AI_MODELS included); a bad value exits 2 naming it."""
    from pydantic import ValidationError

    from everything_app.ai import model_registry
    from everything_app.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        typer.echo("Invalid configuration:", err=True)
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]).upper() or "settings"
            typer.echo(f"  {name}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
    try:
        model_registry(settings)
    except ValueError as exc:
        typer.echo(f"Invalid configuration:\n  AI_MODELS: {exc}", err=True)
        raise typer.Exit(2) from None
    return settings


@cli.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default: HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT or 8000).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes (default: WORKERS; all cores with REDIS_URL, else 1)"),
    ] = None,
) -> None:
    """Start the HTTP server (migrating the database first unless AUTO_MIGRATE=false)."""
    import uvicorn

    from everything_app.core import migrations
    from everything_app.core.http_protocol import HTTP_PROTOCOL

    settings = _settings()
    if settings.auto_migrate:
        migrations.upgrade(settings)
    _ = settings.secret  # create the secret once, before workers race for it
    uvicorn.run(
        "everything_app.main:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        loop=settings.event_loop,
        http=HTTP_PROTOCOL,  # httptools, with a response's head and body sent as one write
        proxy_headers=False,  # client IPs come from TRUSTED_PROXIES, see core.clientip
        log_config=None,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=settings.keep_alive_seconds,
        # A live-query frame is built once and sent to many sockets; permessage-deflate would
        # compress it again for every socket that asks (browsers do): at 1,000 subscribers of
        # a 10 KB result that took the write -> notified p50 from ~80 to 190-224 ms
        # (bench/realtime.py). Small frames (`"patch": true`) gain little from it anyway.
        ws_per_message_deflate=False,
    )


@cli.command()
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=1000, help="Jobs run at once (default: JOBS_CONCURRENCY)"),
    ] = None,
) -> None:
    """Run background jobs (and their schedules) without serving HTTP, taking them from the
    queue JOBS_BROKER_URL names (a Redis stream on REDIS_URL by default). Stops gracefully on
    SIGTERM: running jobs get JOBS_SHUTDOWN_GRACE seconds, the rest are handed back."""
    import asyncio

    from everything_app.core import migrations

    settings = _settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"jobs_concurrency": concurrency})
    if settings.auto_migrate:
        migrations.upgrade(settings)
    if settings.resolved_jobs_broker_url == "memory":
        typer.echo(
            "worker: no queue is configured (JOBS_BROKER_URL, REDIS_URL): this worker runs "
            "the jobs it finds in the database, polling every JOBS_POLL_SECONDS",
            err=True,
        )
    from everything_app.app import create_app, run_worker

    asyncio.run(run_worker(create_app(settings, run_jobs=True)))


@cli.command()
def migrate(
    action: Annotated[str, typer.Argument(help="upgrade or downgrade")] = "upgrade",
    revision: Annotated[str | None, typer.Argument(help="Target revision (upgrade: heads)")] = None,
) -> None:
    """Apply (or roll back) database migrations."""
    from everything_app.core import migrations

    settings = _settings()
    if action == "upgrade":
        migrations.upgrade(settings, revision or "heads")
    elif action == "downgrade":
        if revision is None:
            raise typer.BadParameter("downgrade needs a revision, e.g. -1 or base")
        migrations.downgrade(settings, revision)
    else:
        raise typer.BadParameter("action must be upgrade or downgrade")
    typer.echo(f"migrate {action}: done")


@cli.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Argument(help="The administrator's email")],
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
) -> None:
    """Create an administrator, or promote an existing user. The password is read from a
    prompt, or from standard input when it is not a terminal."""
    from everything_app.core import migrations

    settings = _settings()
    if settings.auto_migrate:
        migrations.upgrade(settings)
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    import asyncio

    try:
        outcome = asyncio.run(_create_admin(settings, email, password, name))
    except Exception as exc:  # an AppError carries a clear message
        typer.echo(f"create-admin failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(outcome)


async def _create_admin(settings: Settings, email: str, password: str, name: str | None) -> str:
    from everything_app.auth import ensure_admin
    from everything_app.core.db import create_engine, create_sessionmaker, unit_of_work

    engine = create_engine(settings)
    try:
        # No change bus in this process: a running server sees a promotion once its cached
        # credential ages out (AUTH_CACHE_SECONDS); a promotion takes nothing away meanwhile.
        async with unit_of_work(create_sessionmaker(engine), write=True) as db:
            return await ensure_admin(db, email, password, name)
    finally:
        await engine.dispose()


@cli.command()
def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the backup file")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
) -> None:
    """Back the database up: consistent even while the server writes (SQLite's online backup
    API; pg_dump's custom format on PostgreSQL)."""
    from everything_app.core import backup as backups

    settings = _settings()
    try:
        backups.backup(settings, path, _progress, force=force)
    except backups.BackupError as exc:
        typer.echo(f"backup failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"backup written to {path}")


@cli.command()
def restore(
    path: Annotated[Path, typer.Argument(help="The backup file to restore")],
    yes: Annotated[bool, typer.Option("--yes", help="Overwrite a database that has data")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Restore even while a server uses the database")
    ] = False,
) -> None:
    """Replace the database's content with a backup. Refuses while a server uses the
    database (stop it first, or --force), and to overwrite a database holding data unless
    confirmed (a prompt, or --yes)."""
    from everything_app.core import backup as backups

    settings = _settings()
    try:
        if not force:
            backups.ensure_not_in_use(settings)
    except backups.BackupError as exc:
        typer.echo(f"restore refused: {exc}", err=True)
        raise typer.Exit(1) from None
    confirmed = yes or not backups.database_has_data(settings)
    if not confirmed and sys.stdin.isatty():
        confirmed = typer.confirm("The database has data, which the backup will replace. Continue?")
    if not confirmed:
        typer.echo("restore refused: the database has data; pass --yes to replace it", err=True)
        raise typer.Exit(1)
    try:
        backups.restore(settings, path, _progress, force=force)
    except backups.DatabaseInUse as exc:
        typer.echo(f"restore refused: {exc}", err=True)
        raise typer.Exit(1) from None
    except backups.BackupError as exc:
        typer.echo(f"restore failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"restored {path}")


def _progress(line: str) -> None:
    typer.echo(line, err=True)


def main() -> None:
    cli()
