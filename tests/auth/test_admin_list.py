"""admin/list-users against a model of it: any search, sort and page gives the users a plain
Python filter-sort-slice of the same rows gives, and `total` counts every match."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from everything_app.auth.models import User
from everything_app.core.db import utcnow
from tests.conftest import ClientFactory, make_admin, privileged_db, sign_up

# Local parts of one length: e-mail order is then the local part's, whatever the collation.
LOCALS = ["".join(p) for p in itertools.product("abc", repeat=3)][:14]
NAMES = ["ab", "abc", "b", "ba", "cab", "a", "bb", "abc", "c", "ca", "bab", "ab", "cc", "acb"]


@pytest.fixture
async def population(
    new_client: ClientFactory, app: FastAPI
) -> tuple[httpx.AsyncClient, list[dict[str, Any]]]:
    """An administrator and fourteen users made at distinct instants; the model's rows."""
    client = new_client()
    await make_admin(
        app, (await sign_up(client, email="zzz@example.com", name="zzz"))["user"]["id"]
    )
    base = utcnow() - timedelta(days=1)
    async with privileged_db(app) as db:
        for index, (local, name) in enumerate(zip(LOCALS, NAMES, strict=True)):
            moment = base + timedelta(seconds=index * 7 % 13, microseconds=index)
            db.add(
                User(
                    email=f"{local}@example.com",
                    name=name,
                    password_hash="x",
                    role="user",
                    created_at=moment,
                    updated_at=moment,
                )
            )
        await db.commit()
        rows = (await db.execute(select(User))).scalars().all()
        model = [
            {"id": str(u.id), "email": u.email, "name": u.name, "createdAt": u.created_at}
            for u in rows
        ]
    return client, model


def _matches(value: str, operator: str, needle: str) -> bool:
    value, needle = value.lower(), needle.lower()
    if operator == "contains":
        return needle in value
    if operator == "starts_with":
        return value.startswith(needle)
    return value.endswith(needle)


queries = st.fixed_dictionaries(
    {},
    optional={
        # `%` and `_` must be taken literally (they are LIKE wildcards in SQL).
        "searchValue": st.text(alphabet="abcABC%_@", min_size=1, max_size=3),
        "searchField": st.sampled_from(["email", "name"]),
        "searchOperator": st.sampled_from(["contains", "starts_with", "ends_with"]),
        "sortBy": st.sampled_from(["email", "name", "createdAt"]),
        "sortDirection": st.sampled_from(["asc", "desc"]),
        "limit": st.integers(min_value=1, max_value=20),
        "offset": st.integers(min_value=0, max_value=20),
    },
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # read-only: one population
)
@given(query=queries)
async def test_list_users_is_a_filter_sort_and_slice(
    population: tuple[httpx.AsyncClient, list[dict[str, Any]]], query: dict[str, Any]
) -> None:
    client, model = population
    response = await client.get("/api/auth/admin/list-users", params=query)
    assert response.status_code == 200, response.text
    body = response.json()

    rows = model
    if query.get("searchValue"):
        field = query.get("searchField", "email")
        operator = query.get("searchOperator", "contains")
        rows = [r for r in rows if _matches(r[field], operator, query["searchValue"])]
    descending = query.get("sortDirection") == "desc"
    sort_by = query.get("sortBy")
    if sort_by:
        rows = sorted(rows, key=lambda r: (r[sort_by], uuid.UUID(r["id"])), reverse=descending)
    else:
        rows = sorted(rows, key=lambda r: (r["createdAt"], uuid.UUID(r["id"])))
    limit = query.get("limit", 50)
    offset = query.get("offset", 0)
    expected = [r["id"] for r in rows[offset : offset + limit]]

    assert [u["id"] for u in body["users"]] == expected
    assert body["total"] == len(rows)
    assert (body["limit"], body["offset"]) == (limit, offset)


async def test_paging_through_every_user_sees_each_once(
    population: tuple[httpx.AsyncClient, list[dict[str, Any]]],
) -> None:
    client, model = population
    seen: list[str] = []
    for offset in range(0, len(model), 4):
        page = await client.get(
            "/api/auth/admin/list-users",
            params={"sortBy": "name", "sortDirection": "desc", "limit": 4, "offset": offset},
        )
        seen.extend(u["id"] for u in page.json()["users"])
    assert sorted(seen) == sorted(r["id"] for r in model)


async def test_filters(population: tuple[httpx.AsyncClient, list[dict[str, Any]]]) -> None:
    client, model = population

    async def ids(**params: Any) -> set[str]:
        page = await client.get("/api/auth/admin/list-users", params={"limit": 200, **params})
        assert page.status_code == 200, page.text
        return {u["id"] for u in page.json()["users"]}

    admins = await ids(filterField="role", filterValue="admin")
    assert admins == {r["id"] for r in model if r["email"] == "zzz@example.com"}
    assert (
        await ids(filterField="role", filterValue="admin", filterOperator="ne")
        == {r["id"] for r in model} - admins
    )
    assert await ids(filterField="banned", filterValue="true") == set()
    assert await ids(filterField="name", filterValue="ab,ba", filterOperator="in") == {
        r["id"] for r in model if r["name"] in ("ab", "ba")
    }
    assert await ids(filterField="name", filterValue="c", filterOperator="starts_with") == {
        r["id"] for r in model if r["name"].startswith("c")
    }
    middle = sorted(r["createdAt"] for r in model)[7]
    assert await ids(
        filterField="createdAt", filterValue=middle.isoformat(), filterOperator="lt"
    ) == {r["id"] for r in model if r["createdAt"] < middle}
