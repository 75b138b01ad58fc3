"""Query strings: a parameter the route does not declare is a 422, never silently ignored;
and query models parsed in one step.

A misspelt filter (`?categroy=food`) or a parameter from another API's convention would
otherwise return an unfiltered page as if it had been applied. The declared names come from
the route's own signature (FastAPI's dependant, query models flattened), so a route states
its parameters once and the check follows. Used by every list: `dependencies=[StrictQuery]`
on the router or the route.

`QueryModel` reads a whole query model with one validation (FastAPI's own reading of a
`Query()` model walks its fields one by one in Python, a tenth of the task list's time) and
documents its fields as the route's query parameters, as FastAPI would.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Generic, TypeVar, get_origin

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams

# Kept on the route object itself, computed on its first request.
_ATTRIBUTE = "_everything_app_query_names"
# Set on a QueryModel's dependency: the model whose fields it reads (see _query_names).
_MODEL_ATTRIBUTE = "__query_model__"

M = TypeVar("M", bound=BaseModel)


def _field_names(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def _refused(names: list[str], kind: str, message: str) -> RequestValidationError:
    """A 422 naming each query parameter refused for the same reason."""
    return RequestValidationError(
        [{"loc": ("query", name), "type": kind, "msg": message} for name in names]
    )


def _grouped(params: QueryParams) -> dict[str, str | list[str]]:
    """Each name's value, or its values when it is repeated (as FastAPI hands a model the
    parameters it does not declare)."""
    values: dict[str, str | list[str]] = {}
    for name, value in params.multi_items():
        held = values.get(name)
        if held is None:
            values[name] = value
        elif isinstance(held, list):
            held.append(value)
        else:
            values[name] = [held, value]
    return values


class QueryModel(Generic[M]):
    """A query model read by one dependency: `params: QueryModel(TaskQuery).param` in a
    signature, and `openapi_extra=QueryModel(TaskQuery).openapi` on the route.

    Errors are FastAPI's own (a RequestValidationError located under `query`), so the 422
    reads the same as for any other parameter."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        # A scalar given twice is refused by name, not silently taken from one of them.
        scalars = {
            info.alias or name
            for name, info in model.model_fields.items()
            if get_origin(info.annotation) not in (list, tuple, set, frozenset)
        }

        async def read_query(request: Request) -> M:
            values = _grouped(request.query_params)
            repeated = [
                n for n, value in values.items() if isinstance(value, list) and n in scalars
            ]
            if repeated:
                raise _refused(repeated, "repeated_parameter", "Give this parameter once.")
            try:
                return model.model_validate(values)
            except ValidationError as exc:
                raise RequestValidationError(
                    [
                        {**error, "loc": ("query", *error["loc"])}
                        for error in exc.errors(include_url=False)
                    ]
                ) from None

        setattr(read_query, _MODEL_ATTRIBUTE, model)
        self._read: Callable[[Request], Coroutine[Any, Any, M]] = read_query

    @property
    def param(self) -> Any:
        """The annotation of the endpoint's parameter."""
        return Annotated[self.model, Depends(self._read)]

    @property
    def openapi(self) -> dict[str, Any]:
        """The model's fields as query parameters, in the shape FastAPI writes them."""
        schema = self.model.model_json_schema(
            mode="validation", ref_template="#/components/schemas/{model}"
        )
        properties = schema.get("properties", {})
        parameters = []
        for name, info in self.model.model_fields.items():
            alias = info.alias or name
            parameter: dict[str, Any] = {
                "name": alias,
                "in": "query",
                "required": info.is_required(),
                "schema": properties[alias],
            }
            if info.description:
                parameter["description"] = info.description
            parameters.append(parameter)
        return {"parameters": parameters}


def _query_names(dependant: Dependant) -> set[str]:
    """Every query parameter name of a route and its dependencies (a query model's fields
    by their aliases)."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        pending.extend(current.dependencies)
        model = getattr(current.call, _MODEL_ATTRIBUTE, None)
        if model is not None:
            names.update(_field_names(model))
        for field in current.query_params:
            model = field.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                names.update(_field_names(model))
            else:
                names.add(field.alias)
    return names


def _declared(route: APIRoute) -> frozenset[str]:
    names: frozenset[str] | None = getattr(route, _ATTRIBUTE, None)
    if names is None:
        names = frozenset(_query_names(route.dependant))
        setattr(route, _ATTRIBUTE, names)
    return names


async def reject_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    declared = _declared(route)
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in declared]
    if unknown:
        raise _refused(unknown, "extra_forbidden", "Extra inputs are not permitted")


StrictQuery = Depends(reject_unknown_query)
