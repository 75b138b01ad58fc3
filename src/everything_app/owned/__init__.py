"""User-owned tables declared once: list/create/get/update/delete, owner scoping, change
events and row-level security. See `registry` for how to declare one.

The names below are loaded on first use: importing `owned.models` (as every table's model
does, and so `migrate` and `alembic`) must not import the HTTP routes and FastAPI with them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from everything_app.owned.models import OwnedBase
    from everything_app.owned.registry import OwnedTable, SortOption, register, registered
    from everything_app.owned.routes import owned_router
    from everything_app.owned.schemas import (
        PROTECTED_FIELDS,
        ListQuery,
        OwnedInput,
        OwnedOutput,
    )

_WHERE = {
    "OwnedBase": "models",
    "OwnedTable": "registry",
    "SortOption": "registry",
    "register": "registry",
    "registered": "registry",
    "owned_router": "routes",
    "PROTECTED_FIELDS": "schemas",
    "ListQuery": "schemas",
    "OwnedInput": "schemas",
    "OwnedOutput": "schemas",
}

__all__ = [
    "PROTECTED_FIELDS",
    "ListQuery",
    "OwnedBase",
    "OwnedInput",
    "OwnedOutput",
    "OwnedTable",
    "SortOption",
    "owned_router",
    "register",
    "registered",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value
