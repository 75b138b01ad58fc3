"""User-owned tables declared once: list/create/get/update/delete, owner scoping, change
events and row-level security (seed 003). See `registry` for how to declare one."""

from everything_app.owned.models import OwnedBase
from everything_app.owned.registry import OwnedTable, SortOption, register, registered
from everything_app.owned.routes import owned_router
from everything_app.owned.schemas import PROTECTED_FIELDS, ListQuery, OwnedInput, OwnedOutput

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
