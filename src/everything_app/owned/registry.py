"""The owned-table registry: each user-owned table, declared once.

A declaration names the model, its create/update/read schemas, its list query (filters and
sort) and examples. From it come the REST routes (owned.routes), the service (owned.service),
change events, and the tests that check owner scoping on every route of every table.
Row-level security is set up in the table's migration with `core.rls.owner_policies`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, get_args

from sqlalchemy.orm import InstrumentedAttribute

from everything_app.owned.models import OwnedBase
from everything_app.owned.schemas import PROTECTED_FIELDS, ListQuery, OwnedInput, OwnedOutput


@dataclass(frozen=True)
class SortOption:
    """A keyset sort: a non-null timestamp column (ties broken by id), backed by an index
    that starts with `user_id`, so every page costs the same however large the table."""

    column: InstrumentedAttribute[datetime]
    descending: bool


@dataclass(frozen=True)
class OwnedTable:
    path: str  # URL segment under /api, e.g. "tasks"
    label: str  # one row, for messages and error codes: "task"
    model: type[OwnedBase]
    create: type[OwnedInput]
    update: type[OwnedInput]
    read: type[OwnedOutput]
    query: type[ListQuery]
    sorts: Mapping[str, SortOption]
    example_create: dict[str, Any]
    example_update: dict[str, Any]
    description: str = ""
    # Extra OpenAPI text per operation ("list", "create", "get", "update", "delete").
    docs: Mapping[str, str] = field(default_factory=dict)

    @property
    def table_name(self) -> str:
        return str(self.model.__table__.name)  # type: ignore[attr-defined]

    def check(self) -> None:
        """Refuse a declaration that would expose server-owned fields or an unknown sort."""
        columns = set(self.model.__table__.columns.keys())
        for schema in (self.create, self.update):
            fields = set(schema.model_fields)
            _require(not fields & PROTECTED_FIELDS, f"{schema.__name__} accepts server fields")
            _require(schema.model_config.get("extra") == "forbid", f"{schema.__name__}: extra")
            _require(fields <= columns, f"{schema.__name__} has fields that are not columns")
        sort = self.query.model_fields["sort"]
        _require(set(get_args(sort.annotation)) == set(self.sorts), "sort values != sorts")
        _require(sort.default in self.sorts, "the default sort is not a sort")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise TypeError(f"owned table declaration: {message}")


class OwnedTables:
    """One app's owned tables, in registration order (see `owned.live.add_table`)."""

    def __init__(self) -> None:
        self._tables: dict[str, OwnedTable] = {}

    def add(self, table: OwnedTable) -> None:
        table.check()
        if self._tables.get(table.path, table) != table:
            raise TypeError(f"/api/{table.path} is registered twice")
        self._tables[table.path] = table

    def __iter__(self) -> Iterator[OwnedTable]:
        return iter(list(self._tables.values()))

    def __len__(self) -> int:
        return len(self._tables)
