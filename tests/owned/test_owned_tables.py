"""Every route of every registered owned table: owner scoping, mass assignment, pagination,
change events and documentation. Generated from the registry, so a new table is covered by
registering it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from everything_app.app import register_features
from everything_app.core.changes import Change
from everything_app.owned import PROTECTED_FIELDS, OwnedTable, OwnedTables, owned_router
from tests.conftest import SignedIn

# Every feature's tables, as each app registers them.
TABLES = list(register_features()[OwnedTables])
assert TABLES, "no owned table is registered"


def by_path(tables: Sequence[OwnedTable]) -> list[Any]:
    return [pytest.param(t, id=t.path) for t in tables]


async def create(client: httpx.AsyncClient, table: OwnedTable) -> dict[str, Any]:
    response = await client.post(f"/api/{table.path}", json=table.example_create)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("table", by_path(TABLES))
async def test_another_users_row_is_404_on_every_route(
    table: OwnedTable, signed_in: SignedIn
) -> None:
    owner, other = await signed_in(), await signed_in()
    row = await create(owner, table)
    url = f"/api/{table.path}/{row['id']}"

    for response in (
        await other.get(url),
        await other.patch(url, json=table.example_update),
        await other.delete(url),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == f"{table.label}_not_found"
    assert (await other.get(f"/api/{table.path}")).json() == {"data": [], "next_cursor": None}

    # The owner's row is untouched, and a missing id looks exactly like another user's.
    assert (await owner.get(url)).json() == row
    missing = await owner.get(f"/api/{table.path}/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json() == (await other.get(url)).json()


@pytest.mark.parametrize("table", by_path(TABLES))
async def test_owner_crud_round_trip(table: OwnedTable, signed_in: SignedIn) -> None:
    client = await signed_in()
    row = await create(client, table)
    url = f"/api/{table.path}/{row['id']}"
    assert (await client.get(url)).json() == row
    listed = (await client.get(f"/api/{table.path}")).json()
    assert [r["id"] for r in listed["data"]] == [row["id"]]

    patched = await client.patch(url, json=table.example_update)
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["id"] == row["id"]
    assert body["created_at"] == row["created_at"]
    assert body["updated_at"] >= row["updated_at"]
    assert (await client.get(url)).json() == body

    deleted = await client.delete(url)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await client.get(url)).status_code == 404
    assert (await client.delete(url)).status_code == 404


@pytest.mark.parametrize("field", sorted(PROTECTED_FIELDS))
@pytest.mark.parametrize("table", by_path(TABLES))
async def test_server_fields_cannot_be_assigned(
    table: OwnedTable, field: str, signed_in: SignedIn
) -> None:
    owner, other = await signed_in(), await signed_in()
    victim = (await other.get("/api/auth/get-session")).json()["user"]["id"]
    value = victim if field in ("user_id", "id") else "2000-01-01T00:00:00Z"
    refused = await owner.post(f"/api/{table.path}", json={**table.example_create, field: value})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["loc"] == ["body", field]

    row = await create(owner, table)
    url = f"/api/{table.path}/{row['id']}"
    refused = await owner.patch(url, json={field: value})
    assert refused.status_code == 422
    assert (await owner.get(url)).json() == row  # nothing changed
    assert (await other.get(f"/api/{table.path}")).json()["data"] == []


@pytest.mark.parametrize("table", by_path(TABLES))
async def test_keyset_pages_cover_every_row_once(table: OwnedTable, signed_in: SignedIn) -> None:
    client = await signed_in()
    created = {(await create(client, table))["id"] for _ in range(5)}
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"/api/{table.path}", params=params)).json()
        seen += [r["id"] for r in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(created)


@pytest.mark.parametrize("table", by_path(TABLES))
async def test_list_refuses_unknown_parameters_and_bad_cursors(
    table: OwnedTable, signed_in: SignedIn
) -> None:
    client = await signed_in()
    unknown = await client.get(f"/api/{table.path}", params={"owner": "someone"})
    assert unknown.status_code == 422
    for params in ({"limit": 0}, {"limit": 10_000}, {"sort": "user_id"}):
        assert (await client.get(f"/api/{table.path}", params=params)).status_code == 422
    bad = await client.get(f"/api/{table.path}", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize("table", by_path(TABLES))
async def test_routes_need_a_signed_in_user(table: OwnedTable, client: httpx.AsyncClient) -> None:
    row_url = f"/api/{table.path}/{uuid.uuid4()}"
    for method, url in (
        ("GET", f"/api/{table.path}"),
        ("POST", f"/api/{table.path}"),
        ("GET", row_url),
        ("PATCH", row_url),
        ("DELETE", row_url),
    ):
        response = await client.request(method, url, json=table.example_create)
        assert response.status_code == 401, (method, url)


@pytest.mark.parametrize("table", by_path(TABLES))
async def test_every_write_records_a_change_after_commit(
    table: OwnedTable, signed_in: SignedIn, app: FastAPI
) -> None:
    heard: list[Change] = []
    app.state.changes.listen(heard.extend)
    client = await signed_in()
    me = uuid.UUID((await client.get("/api/auth/get-session")).json()["user"]["id"])
    row = await create(client, table)
    url = f"/api/{table.path}/{row['id']}"
    await client.patch(url, json=table.example_update)
    await client.patch(url, json={"no_such_field": 1})  # refused: no change
    await client.delete(url)

    mine = [c for c in heard if c.table == table.table_name]
    assert [c.op for c in mine] == ["insert", "update", "delete"]
    assert {c.owner_id for c in mine} == {me}
    assert {str(c.row_id) for c in mine} == {row["id"]}
    assert mine[0].data == row
    assert mine[2].data == {"id": row["id"]}


def test_openapi_documents_every_table() -> None:
    docs = FastAPI()
    for table in TABLES:
        docs.include_router(owned_router(table))
    paths = docs.openapi()["paths"]
    for table in TABLES:
        collection, item = paths[f"/api/{table.path}"], paths[f"/api/{table.path}/{{row_id}}"]
        assert set(collection) == {"get", "post"}
        assert set(item) == {"get", "patch", "delete"}
        body = collection["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"]["$ref"].endswith(f"/{table.create.__name__}")
        assert body["example"] == table.example_create
        patch = item["patch"]["requestBody"]["content"]["application/json"]
        assert patch["schema"]["$ref"].endswith(f"/{table.update.__name__}")
        params = {p["name"] for p in collection["get"]["parameters"]}
        assert {"limit", "cursor", "sort"} <= params
        assert "404" in item["get"]["responses"]
