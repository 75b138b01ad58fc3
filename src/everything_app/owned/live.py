"""Registering an owned table: the app's list of tables, and its live list query.

`<path>.list` (tasks.list, events.list, expenses.list, …) reads like `GET /api/<path>`: the
same filters, sort and paging. The default predicate (the viewer's own rows) is exact
enough: any write to one of the viewer's rows re-runs the list, so a row that stops (or
starts) matching the filters is seen; a row created through the REST API lands on an
unfiltered first page without a query (`owned_list_fold`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth import AccountExportSections, table_section
from everything_app.core.changes import Change
from everything_app.core.features import Registry
from everything_app.core.pagination import Keyset
from everything_app.owned import service
from everything_app.owned.registry import OwnedTable, OwnedTables
from everything_app.owned.schemas import ListQuery
from everything_app.realtime import Folder, QueryRegistry, Runner, Viewer


def owned_list(table: OwnedTable) -> Runner[ListQuery]:
    """`GET /api/<table>`, live: the same filters, sort and paging as the REST list."""

    async def run(db: AsyncSession, viewer: Viewer, args: ListQuery) -> dict[str, Any]:
        return await service.list_page(db, table, viewer.user_id, args)

    return run


def owned_list_fold(table: OwnedTable) -> Folder[ListQuery]:
    """A row created through the REST API (an exact change) is placed on an unfiltered
    first page where the list's order puts it, without reading the list again. Anything
    else (a filter, a cursor, an update, a delete) runs the list."""

    def fold(
        result: dict[str, Any], change: Change, viewer: Viewer, args: ListQuery
    ) -> dict[str, Any] | None:
        if change.op != "insert" or args.cursor is not None or args.conditions():
            return None
        sort = table.sorts[args.sort]
        order = Keyset(sort.column, table.model.id, sort.descending)
        placed = order.with_new_row(result["data"], result["next_cursor"], change.data, args.limit)
        if placed is None:
            return None
        return {"data": placed[0], "next_cursor": placed[1]}

    return fold


def add_table(registry: Registry, table: OwnedTable) -> None:
    """Offer `table` in this app: among its owned tables, as a live list, and in the
    account's export (`<path>.json`, in the order of its default sort)."""
    registry[OwnedTables].add(table)
    default_sort = table.sorts[table.query.model_fields["sort"].default]
    registry[AccountExportSections].add(
        table_section(
            table.path, table.model, order=default_sort.column, description=table.description
        )
    )
    registry[QueryRegistry].register(
        f"{table.path}.list",
        owned_list(table),
        args=table.query,
        tables={table.table_name},
        fold=owned_list_fold(table),
    )
