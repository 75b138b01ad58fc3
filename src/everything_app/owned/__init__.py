"""User-owned tables declared once: list/create/get/update/delete, owner scoping, change
events and row-level security. See `registry` for how to declare one, and
`live.add_table` for how a feature offers it in its `register(registry)` step.

Other features import only the names below (see `core.exports`): importing `owned.models`
(as every table's model does, and so `migrate` and `alembic`) must not import the HTTP
routes and FastAPI with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.owned.live import add_table
    from everything_app.owned.models import OwnedBase
    from everything_app.owned.registry import OwnedTable, OwnedTables, SortOption
    from everything_app.owned.routes import owned_router
    from everything_app.owned.schemas import (
        PROTECTED_FIELDS,
        ListQuery,
        OwnedInput,
        OwnedOutput,
    )
    from everything_app.owned.service import (
        create_row,
        create_rows,
        list_rows,
        to_json,
        update_row,
        validate,
    )

__all__ = [
    "PROTECTED_FIELDS",
    "ListQuery",
    "OwnedBase",
    "OwnedInput",
    "OwnedOutput",
    "OwnedTable",
    "OwnedTables",
    "SortOption",
    "add_table",
    "create_row",
    "create_rows",
    "list_rows",
    "owned_router",
    "to_json",
    "update_row",
    "validate",
]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__,
        {
            "add_table": "live",
            "OwnedBase": "models",
            "OwnedTable": "registry",
            "OwnedTables": "registry",
            "SortOption": "registry",
            "owned_router": "routes",
            "PROTECTED_FIELDS": "schemas",
            "ListQuery": "schemas",
            "OwnedInput": "schemas",
            "OwnedOutput": "schemas",
            "create_row": "service",
            "create_rows": "service",
            "list_rows": "service",
            "to_json": "service",
            "update_row": "service",
            "validate": "service",
        },
    )
