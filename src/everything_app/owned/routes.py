"""One router per owned table: GET/POST on the collection, GET/PATCH/DELETE on a row.

The endpoints are written once and given each table's schemas through their signatures, so
FastAPI validates and documents every table with its own models.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Response, status

from everything_app.auth import CurrentAccount, require_account
from everything_app.core.db import SessionDep
from everything_app.core.pagination import Page
from everything_app.core.params import QueryModel, StrictQuery
from everything_app.owned import service
from everything_app.owned.registry import OwnedTable
from everything_app.owned.schemas import ListQuery, OwnedInput

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such row among yours (another user's row is a 404 too)."}
}


def _typed(endpoint: Callable[..., Any], **annotations: Any) -> Callable[..., Any]:
    """Give `endpoint` the parameter types FastAPI should validate with."""
    signature = inspect.signature(endpoint)
    parameters = [
        p.replace(annotation=annotations.get(p.name, p.annotation))
        for p in signature.parameters.values()
    ]
    endpoint.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return endpoint


def _doc(table: OwnedTable, operation: str, text: str) -> str:
    extra = table.docs.get(operation)
    return f"{text}\n\n{extra}" if extra else text


def owned_router(table: OwnedTable) -> APIRouter:
    router = APIRouter(
        prefix=f"/api/{table.path}",
        tags=[table.path],
        dependencies=[Depends(require_account), StrictQuery],
    )
    label, plural = table.label, table.path
    read_page = Page[table.read]  # type: ignore[name-defined]
    query = QueryModel(table.query)

    async def list_rows(params: ListQuery, user: CurrentAccount, db: SessionDep) -> Response:
        # The hot read: JSON written straight from the rows (`response_model` still
        # documents it; a Response is sent as it is, not validated a second time).
        body = await service.list_page_json(db, table, user.id, params)
        return Response(body, media_type="application/json")

    async def create_row(body: OwnedInput, user: CurrentAccount, db: SessionDep) -> Response:
        body_json = await service.create_row_alone(db, table, user.id, body)
        return Response(body_json, status.HTTP_201_CREATED, media_type="application/json")

    async def get_row(row_id: uuid.UUID, user: CurrentAccount, db: SessionDep) -> Any:
        return table.read.model_validate(await service.get_row(db, table, user.id, row_id))

    async def update_row(
        row_id: uuid.UUID, body: OwnedInput, user: CurrentAccount, db: SessionDep
    ) -> Any:
        row = await service.update_row(db, table, user.id, row_id, body)
        return table.read.model_validate(row)

    async def delete_row(row_id: uuid.UUID, user: CurrentAccount, db: SessionDep) -> Response:
        await service.delete_row(db, table, user.id, row_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    router.get(
        "",
        response_model=read_page,
        name=f"list_{plural}",
        summary=f"List your {plural}",
        description=_doc(table, "list", f"Your {plural}, one page at a time (keyset pagination)."),
        openapi_extra=query.openapi,
    )(_typed(list_rows, params=query.param))
    router.post(
        "",
        response_model=table.read,
        status_code=status.HTTP_201_CREATED,
        name=f"create_{label}",
        summary=f"Create a {label}",
        description=_doc(table, "create", f"Create a {label}; the response is the new {label}."),
        openapi_extra=_example(table.example_create),
    )(_typed(create_row, body=table.create))
    router.get(
        "/{row_id}",
        response_model=table.read,
        name=f"get_{label}",
        summary=f"Get a {label}",
        description=_doc(table, "get", f"One of your {plural}."),
        responses=NOT_FOUND,
    )(get_row)
    router.patch(
        "/{row_id}",
        response_model=table.read,
        name=f"update_{label}",
        summary=f"Update a {label}",
        description=_doc(
            table, "update", f"Change the given fields of one of your {plural}; others stay."
        ),
        responses=NOT_FOUND,
        openapi_extra=_example(table.example_update),
    )(_typed(update_row, body=table.update))
    router.delete(
        "/{row_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        name=f"delete_{label}",
        summary=f"Delete a {label}",
        description=_doc(table, "delete", f"Delete one of your {plural} for good."),
        responses=NOT_FOUND,
    )(delete_row)
    return router


def _example(example: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"content": {"application/json": {"example": example}}}}
