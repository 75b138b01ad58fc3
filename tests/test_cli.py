"""The command line: migrate, create-admin (password from stdin), settings validation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import AppWith

pytestmark = pytest.mark.slow  # each runs the command line in a new Python process

CLI = [sys.executable, "-m", "everything_app"]


def run_cli(
    args: list[str], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


async def test_create_admin_then_admin_routes(
    app_with: AppWith, database_url: str, tmp_path: Path
) -> None:
    running = await app_with()  # starts from an empty database
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path / "data")}
    created = run_cli(["create-admin", "root@example.com"], env, stdin="admin password 1\n")
    assert created.returncode == 0, created.stderr
    assert "created administrator root@example.com" in created.stdout
    again = run_cli(["create-admin", "ROOT@example.com"], env, stdin="ignored\n")
    assert "now an administrator" in again.stdout
    client = running.client()
    signed = await client.post(
        "/api/auth/sign-in/email",
        json={"email": "root@example.com", "password": "admin password 1"},
    )
    assert signed.status_code == 200
    assert signed.json()["user"]["role"] == "admin"
    users = await client.get("/api/auth/admin/list-users")
    assert users.status_code == 200
    assert users.json()["total"] >= 1


def test_create_admin_rejects_a_short_password(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "DATA_DIR": str(tmp_path)}
    result = run_cli(["create-admin", "root@example.com"], env, stdin="short\n")
    assert result.returncode == 1
    assert "Password too short" in result.stderr


def test_invalid_settings_are_reported_clearly(tmp_path: Path) -> None:
    env = {"BASE_URL": "not a url", "DATA_DIR": str(tmp_path)}
    result = run_cli(["migrate"], env)
    assert result.returncode == 2
    assert "BASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_ai_models_are_reported_clearly(tmp_path: Path) -> None:
    env = {"AI_MODELS": '[{"id": "x"}]', "DATA_DIR": str(tmp_path)}
    result = run_cli(["migrate"], env)
    assert result.returncode == 2
    assert "AI_MODELS" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_upgrade_and_downgrade(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}", "DATA_DIR": str(tmp_path)}
    assert run_cli(["migrate", "upgrade"], env).returncode == 0
    assert run_cli(["migrate", "downgrade", "base"], env).returncode == 0
    bad = run_cli(["migrate", "sideways"], env)
    assert bad.returncode == 2


def test_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    from everything_app.settings import Settings

    first = Settings(data_dir=tmp_path).secret
    second = Settings(data_dir=tmp_path).secret
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # private to the owner


# Runs the CLI in-process, then writes the names of every module it imported to a file.
_IMPORTS_RUNNER = """
import json, sys
from everything_app.cli import main
sys.argv = ["everything-app", *sys.argv[2:]]
try:
    main()
except SystemExit:
    pass
with open(OUT, "w") as f:
    json.dump(sorted(sys.modules), f)
"""


def imported_by(args: list[str], env: dict[str, str], tmp_path: Path, stdin: str = "") -> set[str]:
    out = tmp_path / "modules.json"
    runner = _IMPORTS_RUNNER.replace("OUT", repr(str(out)))
    done = subprocess.run(
        [sys.executable, "-c", runner, "-", *args],
        input=stdin, capture_output=True, text=True, env={**os.environ, **env}, timeout=120,
        check=False,
    )  # fmt: skip
    assert out.exists(), done.stderr
    modules: list[str] = json.loads(out.read_text())
    return set(modules)


# What a command that does not serve HTTP or call a model must never load.
HEAVY = ("openai", "anthropic", "dateparser", "uvicorn")


def _loaded(modules: set[str], roots: tuple[str, ...]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in roots}


def test_help_imports_no_app(tmp_path: Path) -> None:
    modules = imported_by(["--help"], {"DATA_DIR": str(tmp_path)}, tmp_path)
    assert "everything_app.cli" in modules
    assert (
        _loaded(modules, (*HEAVY, "fastapi", "starlette", "sqlalchemy", "pydantic_settings"))
        == set()
    )


def test_commands_import_no_routes_and_no_ai_sdks(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "DATA_DIR": str(tmp_path)}
    runs = {
        "migrate": imported_by(["migrate"], env, tmp_path),
        "create-admin": imported_by(
            ["create-admin", "root@example.com"], env, tmp_path, stdin="admin password 1\n"
        ),
        "backup": imported_by(["backup", str(tmp_path / "b.dump")], env, tmp_path),
    }
    assert (tmp_path / "b.dump").exists()  # the commands did run
    for command, modules in runs.items():
        assert _loaded(modules, HEAVY) == set(), command
        routes = {m for m in modules if m.startswith("everything_app.") and "routes" in m}
        assert routes == set(), command
        assert "everything_app.app" not in modules, command
