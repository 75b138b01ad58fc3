"""`serve` hands uvicorn the settings that shape the server: the event loop, keep-alive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from everything_app import cli
from everything_app.core import migrations

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """What `serve` passes to uvicorn.run (nothing is started, nothing migrated)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    monkeypatch.setattr(migrations, "upgrade", lambda settings: None)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for name in ("EVENT_LOOP", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return calls


@pytest.mark.parametrize("database_url", [None, POSTGRES], ids=["sqlite", "postgres"])
def test_serve_runs_the_standard_event_loop_by_default(
    uvicorn_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, database_url: str | None
) -> None:
    if database_url is not None:
        monkeypatch.setenv("DATABASE_URL", database_url)

    result = CliRunner().invoke(cli.cli, ["serve"])

    assert result.exit_code == 0, result.output
    [options] = uvicorn_calls
    assert options["loop"] == "asyncio"
    assert options["timeout_keep_alive"] == 75


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_serve_runs_the_event_loop_asked_for(
    uvicorn_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, loop: str
) -> None:
    monkeypatch.setenv("EVENT_LOOP", loop)
    monkeypatch.setenv("DATABASE_URL", POSTGRES)

    result = CliRunner().invoke(cli.cli, ["serve"])

    assert result.exit_code == 0, result.output
    assert uvicorn_calls[0]["loop"] == loop


def test_an_unknown_event_loop_is_refused_before_serving(
    uvicorn_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENT_LOOP", "trio")

    result = CliRunner().invoke(cli.cli, ["serve"])

    assert result.exit_code == 2
    assert "EVENT_LOOP" in result.output
    assert uvicorn_calls == []
