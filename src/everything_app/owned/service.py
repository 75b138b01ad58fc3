"""List, create, read, update and delete for any owned table: always scoped to the owner.

Another user's row and a missing row are the same 404. Every write records a change event
(published after the commit, see core.changes). Services flush, never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Insert, Row, Select, bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningDelete

from everything_app.core import fastjson
from everything_app.core.changes import Change, record_change
from everything_app.core.db import read_once, write_once
from everything_app.core.errors import NotFound, ValidationFailed
from everything_app.core.pagination import Keyset, decode_cursor
from everything_app.owned.models import OwnedBase
from everything_app.owned.registry import OwnedTable
from everything_app.owned.schemas import ListQuery, OwnedInput

S = TypeVar("S", bound=BaseModel)


def _changed(
    db: AsyncSession,
    table: OwnedTable,
    row: OwnedBase | Row[Any],
    user_id: uuid.UUID,
    op: Literal["insert", "update"],
) -> None:
    record_change(db, Change(table.table_name, op, row.id, user_id, to_json(table, row)))


def to_json(table: OwnedTable, row: OwnedBase | Row[Any]) -> dict[str, Any]:
    return table.read.model_validate(row).model_dump(mode="json")


def _list_query(
    table: OwnedTable, owner: Any, params: ListQuery, *what: Any
) -> tuple[Select[Any], Keyset]:
    """The page's query; `owner` is the user's id, or a bound parameter standing for it."""
    sort = table.sorts[params.sort]
    order = Keyset(sort.column, table.model.id, sort.descending)
    query = select(*what).where(table.model.user_id == owner, *params.conditions())
    after = decode_cursor(params.cursor) if params.cursor else None
    return order.select(query, after=after, limit=params.limit), order


async def list_rows(
    db: AsyncSession, table: OwnedTable, user_id: uuid.UUID, params: ListQuery
) -> tuple[list[Row[Any]], str | None]:
    """One page of the user's rows, filtered and keyset-paginated (one extra row tells
    whether another page exists). Plain rows of the read model's fields (by name, as
    `table.read.model_validate` reads them), not ORM objects: a list is only read, and
    as the unit of work's one statement it costs one round trip (core.db.read_once)."""
    query, order = _page_query(table, params)
    rows = (await read_once(db, query, {_OWNER: user_id})).all()
    return order.page(rows, params.limit)


def _columns(table: OwnedTable) -> list[Any]:
    """The columns of `table.read`'s fields, in its field order (the order they are written)."""
    found = _COLUMNS.get(table.path)
    if found is None:
        found = _COLUMNS[table.path] = [
            getattr(table.model, name) for name in table.read.model_fields
        ]
    return found


_COLUMNS: dict[str, list[Any]] = {}


_OWNER = "owner"
# Unfiltered first pages, by (table, sort, limit): the most frequent read. Executing the same
# statement object again skips building it and lets SQLAlchemy reuse its compiled form with
# no re-matching of the result columns (which a new, equal statement object costs).
_FIRST_PAGES: dict[tuple[str, str, int], tuple[Select[Any], Keyset]] = {}


def _page_query(table: OwnedTable, params: ListQuery) -> tuple[Select[Any], Keyset]:
    if params.cursor is not None or params.conditions():
        return _list_query(table, bindparam(_OWNER), params, *_columns(table))
    cache_key = (table.path, params.sort, params.limit)
    found = _FIRST_PAGES.get(cache_key)
    if found is None:
        found = _FIRST_PAGES[cache_key] = _list_query(
            table, bindparam(_OWNER), params, *_columns(table)
        )
    return found


async def list_page(
    db: AsyncSession, table: OwnedTable, user_id: uuid.UUID, params: ListQuery
) -> dict[str, Any]:
    """`list_rows` as the data of a `Page[table.read]`, for a list that is only sent (the
    REST list, the live list): plain rows of a Core select of the read model's fields (no
    ORM objects), not validated again: they come from our own database through typed
    columns (timestamps aware UTC, see core.db), and core.fastjson writes a UUID, a
    Decimal and a UTC instant exactly as the read model does (tests pin the shape)."""
    query, order = _page_query(table, params)
    # Past the ORM's execute machinery (a read of plain columns needs none of it), as the
    # request's one statement where it is (one round trip, see core.db.read_once).
    rows = (await read_once(db, query, {_OWNER: user_id})).all()
    data, next_cursor = order.page(rows, params.limit)
    names = table.read.model_fields.keys()  # the selected columns, in order
    rows_out = [dict(zip(names, row, strict=True)) for row in data]  # cheaper than _asdict
    return {"data": rows_out, "next_cursor": next_cursor}


async def list_page_json(
    db: AsyncSession, table: OwnedTable, user_id: uuid.UUID, params: ListQuery
) -> bytes:
    """`list_page`, written as JSON in one go."""
    return fastjson.dumps(await list_page(db, table, user_id, params))


async def get_row(
    db: AsyncSession, table: OwnedTable, user_id: uuid.UUID, row_id: uuid.UUID
) -> OwnedBase:
    row = (
        await db.execute(
            select(table.model).where(table.model.id == row_id, table.model.user_id == user_id)
        )
    ).scalar_one_or_none()
    if row is None:
        raise _not_found(table)
    return row


def _not_found(table: OwnedTable) -> NotFound:
    label = table.label
    return NotFound(f"{label.capitalize()} not found.", code=f"{label}_not_found")


async def create_row(
    db: AsyncSession, table: OwnedTable, user_id: uuid.UUID, body: OwnedInput
) -> OwnedBase:
    row = table.model(user_id=user_id, **_create_values(table, body))
    db.add(row)
    await db.flush()
    _changed(db, table, row, user_id, "insert")
    return row


async def create_row_alone(
    db: AsyncSession, table: OwnedTable, user_id: uuid.UUID, body: OwnedInput
) -> bytes:
    """`create_row` as the whole of its unit of work (a REST create): one INSERT, committed
    as it returns (core.db.write_once), answering the new row as `table.read` writes it
    (the JSON its change event carries, written once)."""
    statement = _INSERTS.get(table.path)
    if statement is None:
        statement = _INSERTS[table.path] = insert(table.model).returning(*_columns(table))
    values = {"user_id": user_id, **_create_values(table, body)}
    row = (await write_once(db, statement, values)).one()
    data = to_json(table, row)
    # Exact: the row as the database returned it, so a live list can place it unread.
    record_change(db, Change(table.table_name, "insert", row.id, user_id, data, exact=True))
    return fastjson.dumps(data)


# One statement object per table (its values are parameters): executed again, its compiled
# form is found without building and hashing a new statement (see _FIRST_PAGES).
_INSERTS: dict[str, Insert] = {}
_DELETES: dict[str, ReturningDelete[Any]] = {}


def _create_values(table: OwnedTable, body: OwnedInput) -> dict[str, Any]:
    if not isinstance(body, table.create):  # e.g. a tool's arguments: same validation as REST
        body = validate(table.create, body.model_dump(exclude_unset=True))
    return body.model_dump()


async def create_rows(
    db: AsyncSession, table: OwnedTable, user_id: uuid.UUID, bodies: Sequence[OwnedInput]
) -> list[OwnedBase]:
    """`create_row` for many rows in one flush (one multi-row INSERT where the database
    allows it), each validated the same way and each announced with its own change."""
    rows = [table.model(user_id=user_id, **_create_values(table, body)) for body in bodies]
    db.add_all(rows)
    await db.flush()
    for row in rows:
        _changed(db, table, row, user_id, "insert")
    return rows


async def update_row(
    db: AsyncSession, table: OwnedTable, user_id: uuid.UUID, row_id: uuid.UUID, patch: OwnedInput
) -> OwnedBase:
    """Apply the fields the patch sets. The result must be a valid create body, so rules that
    span fields (an event's end after its start) hold whichever of them a patch changes."""
    row = await get_row(db, table, user_id, row_id)
    changes = patch.model_dump(exclude_unset=True)
    current = {name: getattr(row, name) for name in table.create.model_fields}
    merged = validate(table.create, {**current, **changes})
    for name in changes:
        setattr(row, name, getattr(merged, name))
    if changes:
        await db.flush()
        _changed(db, table, row, user_id, "update")
    return row


async def delete_row(
    db: AsyncSession, table: OwnedTable, user_id: uuid.UUID, row_id: uuid.UUID
) -> None:
    """Delete the user's row as the whole of its unit of work (a REST delete): one DELETE,
    committed as it returns (core.db.write_once); a 404 when the user has no such row."""
    statement = _DELETES.get(table.path)
    if statement is None:
        model = table.model
        statement = _DELETES[table.path] = (
            delete(model)
            .where(model.id == bindparam("row_id"), model.user_id == bindparam(_OWNER))
            .returning(model.id)
        )
    found = await write_once(db, statement, {"row_id": row_id, _OWNER: user_id})
    if found.one_or_none() is None:
        raise _not_found(table)
    record_change(db, Change(table.table_name, "delete", row_id, user_id, {"id": str(row_id)}))


def validate(schema: type[S], values: dict[str, Any]) -> S:
    """Validate outside FastAPI's body parsing, answering a 422 in the same shape."""
    try:
        return schema.model_validate(values)
    except ValidationError as exc:
        details = [
            {"loc": ["body", *err["loc"]], "type": err["type"], "msg": err["msg"]}
            for err in exc.errors()
        ]
        raise ValidationFailed(details=details) from None
