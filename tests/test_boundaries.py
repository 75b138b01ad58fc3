"""The package's boundaries, held by machine: the import contracts in pyproject.toml
(`[tool.importlinter]`: core imports no feature, no cycles between packages, and every
feature's modules are imported by that feature only, others going through its public names),
and every feature package declaring those names."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

import everything_app

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(everything_app.__file__).parent
# Packages that are no feature: shared mechanisms, the configuration every part reads (one
# class per feature, composed in one Settings), the stand-in model servers (a public testing
# aid that imports nothing of the app: its own contract), and the Alembic scripts.
NOT_FEATURES = {"core", "settings", "testing", "migrations"}
FEATURES = sorted(
    p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists() and p.name not in NOT_FEATURES
)


def test_the_import_contracts_are_kept() -> None:
    # In-process, on the package this test imports (the work tree's, not an installed copy).
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_every_feature_has_a_public_names_contract() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    protected = {
        contract["allowed_importers"][0].removeprefix("everything_app.")
        for contract in config["contracts"]
        if contract["type"] == "protected"
    }
    assert protected == set(FEATURES)
    core = next(c for c in config["contracts"] if c["id"] == "core")
    assert {f"everything_app.{name}" for name in FEATURES} <= set(core["forbidden_modules"])


@pytest.mark.parametrize("name", FEATURES)
def test_a_feature_declares_its_public_names_and_they_load(name: str) -> None:
    feature = importlib.import_module(f"everything_app.{name}")
    public = getattr(feature, "__all__", None)
    assert public, f"everything_app.{name} declares no public names (__all__)"
    for attribute in public:
        assert getattr(feature, attribute) is not None, f"{name}.{attribute}"
    with pytest.raises(AttributeError):
        _ = feature.not_a_public_name


def test_features_register_in_create_app_only_and_afresh_for_each_app(tmp_path: Path) -> None:
    from everything_app.ai import OfflineRules
    from everything_app.app import create_app, register_features
    from everything_app.auth import AccountDeletionHooks
    from everything_app.chat import ToolBoxes
    from everything_app.core.features import Registry
    from everything_app.owned import OwnedTables
    from everything_app.realtime import QueryRegistry
    from everything_app.settings import Settings

    assert Registry()[QueryRegistry].names() == []  # importing the features registered nothing
    first, second = register_features(), register_features()
    assert first[QueryRegistry] is not second[QueryRegistry]
    assert first[QueryRegistry].names() == second[QueryRegistry].names()
    assert {"keys.list", "chat.sessions", "chat.messages", "queue.position", "tasks.list"} <= set(
        first[QueryRegistry].names()
    )
    paths = [t.path for t in first[OwnedTables]]
    assert [p for p in paths if p in {"events", "tasks", "expenses"}] == [
        "events",
        "tasks",
        "expenses",
    ]
    assert len(list(first[AccountDeletionHooks])) == 1
    # The offline assistant's rules too: the planner's sentences, once per app.
    assert first[OfflineRules] is not second[OfflineRules]
    assert len(list(first[OfflineRules])) == len(list(second[OfflineRules])) == 1
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.db'}")
    apps = [create_app(settings), create_app(settings)]
    offered = [app.state.registry for app in apps]
    assert offered[0] is not offered[1]
    assert offered[0][ToolBoxes] is not offered[1][ToolBoxes]
