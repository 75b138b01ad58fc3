"""A feature's public names, loaded on first use.

Every feature package lists its public names in its `__init__` (`__all__`) and other
features import only those (`tests/test_boundaries.py` holds them to it). The names load
lazily, each from the module that defines it, so that importing a feature's tables (as
Alembic and `migrate` do through `everything_app.models`) does not import its routes and
FastAPI with them. The `__init__` imports the names under `TYPE_CHECKING`, for mypy, and
sets `__getattr__` only when not type checking, so that mypy refuses any other name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """The module `__getattr__` (PEP 562) of `package`: `where` maps each public name to
    the submodule that defines it ("User": "models")."""
    namespace = vars(import_module(package))

    def __getattr__(name: str) -> Any:  # noqa: N807  # the module hook's own name
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        namespace[name] = value  # later lookups skip this function
        return value

    return __getattr__
