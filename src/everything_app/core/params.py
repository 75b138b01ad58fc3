"""Query strings: a parameter the route does not declare is a 422, never silently ignored.

A misspelt filter (`?categroy=food`) or a parameter from another API's convention would
otherwise return an unfiltered page as if it had been applied. The declared names come from
the route's own signature (FastAPI's dependant, query models flattened), so a route states
its parameters once and the check follows. Used by every list: `dependencies=[StrictQuery]`
on the router or the route.
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

# Kept on the route object itself, computed on its first request.
_ATTRIBUTE = "_everything_app_query_names"


def _query_names(dependant: Dependant) -> set[str]:
    """Every query parameter name of a route and its dependencies (a query model's fields
    by their aliases)."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        pending.extend(current.dependencies)
        for field in current.query_params:
            model = field.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                names.update(info.alias or name for name, info in model.model_fields.items())
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
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "type": "extra_forbidden",
                    "msg": "Extra inputs are not permitted",
                }
                for name in unknown
            ]
        )


StrictQuery = Depends(reject_unknown_query)
