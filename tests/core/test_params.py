"""core.params.QueryModel: a query model read in one validation answers, and documents, every
query string exactly as FastAPI's own `Query()` model does; a repeated scalar is a 422."""

# No `from __future__ import annotations`: the endpoints' annotations name each loop's model
# and must be evaluated where they are written.
from typing import Annotated, Any
from unittest.mock import ANY
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI, Query
from hypothesis import example, given, settings
from hypothesis import strategies as st

from everything_app.core.errors import install_error_handlers
from everything_app.core.params import QueryModel, StrictQuery
from everything_app.owned import ListQuery
from everything_app.planner.queries import EventQuery, ExpenseQuery, TaskQuery

MODELS: dict[str, type[ListQuery]] = {
    "tasks": TaskQuery,
    "events": EventQuery,
    "expenses": ExpenseQuery,
}


def _app() -> FastAPI:
    """Each model served twice: read by FastAPI (`/fastapi/...`) and by QueryModel (`/ours/...`)."""
    app = FastAPI()
    install_error_handlers(app)
    for path, model in MODELS.items():
        query: QueryModel[ListQuery] = QueryModel(model)

        async def theirs(params: Annotated[model, Query()]) -> Any:  # type: ignore[valid-type]
            return params.model_dump(mode="json")  # type: ignore[attr-defined]

        async def ours(params: query.param) -> Any:  # type: ignore[name-defined]
            return params.model_dump(mode="json")

        app.get(f"/fastapi/{path}", dependencies=[StrictQuery])(theirs)
        app.get(f"/ours/{path}", dependencies=[StrictQuery], openapi_extra=query.openapi)(ours)
    return app


APP = _app()


async def _both(path: str, query: str) -> tuple[httpx.Response, httpx.Response]:
    transport = httpx.ASGITransport(app=APP)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        theirs = await client.get(f"/fastapi/{path}?{query}")
        ours = await client.get(f"/ours/{path}?{query}")
    return theirs, ours


NAMES = st.sampled_from(
    [
        *("limit", "cursor", "sort", "is_complete", "due_from", "due_to", "from", "to"),
        *("category", "from_", "limits", "Limit", "x"),
    ]
)
VALUES = st.one_of(
    st.sampled_from(
        [
            *("0", "1", "50", "200", "201", "-1", "1.5", "true", "false", "yes", ""),
            *("created_at", "-created_at", "start_time", "-incurred_at", "food", "x" * 51),
            *("2026-01-02T03:04:05Z", "2026-01-02", "2025-01-01T00:00:00+02:00", "\x00"),
        ]
    ),
    st.text(max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(
    path=st.sampled_from(sorted(MODELS)),
    params=st.dictionaries(NAMES, VALUES, max_size=4),
)
@example(path="tasks", params={"limit": "0"})
@example(path="events", params={"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
@example(path="expenses", params={"category": "x" * 51, "sort": "nope"})
async def test_any_query_string_is_answered_as_fastapi_answers_it(
    path: str, params: dict[str, str]
) -> None:
    theirs, ours = await _both(path, urlencode(params))
    assert (ours.status_code, ours.json()) == (theirs.status_code, theirs.json())


async def test_a_bad_value_is_a_422_located_in_the_query() -> None:
    _, ours = await _both("tasks", "limit=0&sort=sideways")
    assert ours.status_code == 422
    locations = [detail["loc"] for detail in ours.json()["error"]["details"]]
    assert locations == [["query", "limit"], ["query", "sort"]]


async def test_an_unknown_parameter_is_refused_by_name() -> None:
    _, ours = await _both("tasks", "limit=5&categroy=food")
    assert ours.status_code == 422
    assert [(d["loc"], d["type"]) for d in ours.json()["error"]["details"]] == [
        (["query", "categroy"], "extra_forbidden")
    ]


@pytest.mark.parametrize("query", ["limit=5&limit=6", "sort=created_at&sort=-created_at"])
async def test_a_repeated_scalar_is_a_422_not_a_silent_pick(query: str) -> None:
    _, ours = await _both("tasks", query)
    assert ours.status_code == 422
    assert ours.json()["error"]["details"] == [
        {"loc": ["query", query.split("=")[0]], "type": "repeated_parameter", "msg": ANY}
    ]


def test_the_fields_are_documented_as_fastapi_documents_them() -> None:
    paths = APP.openapi()["paths"]
    for path in MODELS:
        theirs = paths[f"/fastapi/{path}"]["get"]["parameters"]
        ours = paths[f"/ours/{path}"]["get"]["parameters"]
        assert ours == theirs
