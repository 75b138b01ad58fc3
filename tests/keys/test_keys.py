"""API keys: shown once, stored hashed, usable as Bearer, revocable, private to their owner."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from everything_app.auth.models import ApiKey
from everything_app.core.db import utcnow
from tests.conftest import ClientFactory, SignedIn, privileged_db


def _bare(new_client: ClientFactory) -> httpx.AsyncClient:
    """A client with no cookie, as a script using an API key would be."""
    return new_client()


async def test_create_list_never_shows_secret(signed_in: SignedIn, app: FastAPI) -> None:
    client = await signed_in()
    created = await client.post("/api/keys", json={"name": "laptop", "expires_in_days": 30})
    assert created.status_code == 201
    body = created.json()
    secret = body["key"]
    assert secret.startswith("ea_")
    assert len(secret) >= 40
    assert body["prefix"] == secret[: len(body["prefix"])]
    assert body["status"] == "active"
    assert body["expires_at"] is not None

    listed = (await client.get("/api/keys")).json()
    assert listed["next_cursor"] is None
    assert [k["id"] for k in listed["data"]] == [body["id"]]
    assert secret not in (await client.get("/api/keys")).text
    async with privileged_db(app) as db:
        row = (await db.execute(select(ApiKey))).scalar_one()
    assert secret not in row.key_hash  # only a hash is stored


async def test_key_authenticates_requests(signed_in: SignedIn, new_client: ClientFactory) -> None:
    owner = await signed_in()
    me = (await owner.get("/api/auth/get-session")).json()["user"]
    secret = (await owner.post("/api/keys", json={"name": "ci"})).json()["key"]
    script = _bare(new_client)
    auth = {"Authorization": f"Bearer {secret}"}
    session = await script.get("/api/auth/get-session", headers=auth)
    assert session.json()["user"]["id"] == me["id"]
    assert "token" not in session.json()["session"]
    listed = await script.get("/api/keys", headers=auth)
    assert listed.status_code == 200
    assert listed.json()["data"][0]["last_used_at"] is not None


async def test_revoked_key_is_refused_at_once(
    signed_in: SignedIn, new_client: ClientFactory
) -> None:
    owner = await signed_in()
    created = (await owner.post("/api/keys", json={"name": "old"})).json()
    auth = {"Authorization": f"Bearer {created['key']}"}
    script = _bare(new_client)
    assert (await script.get("/api/keys", headers=auth)).status_code == 200
    revoked = await owner.delete(f"/api/keys/{created['id']}")
    assert revoked.json()["status"] == "revoked"
    refused = await script.get("/api/keys", headers=auth)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"
    assert (await owner.get("/api/keys")).json()["data"][0]["status"] == "revoked"


async def test_expired_key_is_refused(
    signed_in: SignedIn, new_client: ClientFactory, app: FastAPI
) -> None:
    owner = await signed_in()
    created = (await owner.post("/api/keys", json={"name": "temp", "expires_in_days": 1})).json()
    async with privileged_db(app) as db:
        await db.execute(update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    script = _bare(new_client)
    response = await script.get("/api/keys", headers={"Authorization": f"Bearer {created['key']}"})
    assert response.status_code == 401
    assert (await owner.get("/api/keys")).json()["data"][0]["status"] == "expired"


async def test_unknown_key_is_401(new_client: ClientFactory) -> None:
    response = await _bare(new_client).get(
        "/api/keys", headers={"Authorization": "Bearer ea_not-a-real-key-at-all-0000000000"}
    )
    assert response.status_code == 401


async def test_another_users_key_is_404(signed_in: SignedIn) -> None:
    alice, bob = await signed_in(), await signed_in()
    bobs = (await bob.post("/api/keys", json={"name": "bob's"})).json()
    assert (await alice.get(f"/api/keys/{bobs['id']}")).status_code == 404
    deleted = await alice.delete(f"/api/keys/{bobs['id']}")
    assert deleted.status_code == 404
    assert deleted.json()["error"]["code"] == "api_key_not_found"
    assert (await bob.get(f"/api/keys/{bobs['id']}")).json()["status"] == "active"
    assert (await alice.get(f"/api/keys/{uuid.uuid4()}")).status_code == 404
    assert (await alice.get("/api/keys")).json()["data"] == []


async def test_key_in_query_string_is_refused(
    signed_in: SignedIn, new_client: ClientFactory
) -> None:
    owner = await signed_in()
    secret = (await owner.post("/api/keys", json={"name": "q"})).json()["key"]
    for name in ("api_key", "key", "token"):
        response = await _bare(new_client).get(f"/api/keys?{name}={secret}")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "credentials_in_query"


async def test_create_validates_input(signed_in: SignedIn) -> None:
    client = await signed_in()
    for body in (
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": "x", "expires_in_days": 0},
        {},
    ):
        response = await client.post("/api/keys", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_error"
        assert response.json()["error"]["details"]
    assert (await client.get("/api/keys")).json()["data"] == []


async def test_keys_need_authentication(new_client: ClientFactory) -> None:
    response = await _bare(new_client).get("/api/keys")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_keyset_pagination(signed_in: SignedIn) -> None:
    client = await signed_in()
    ids = [(await client.post("/api/keys", json={"name": f"k{i}"})).json()["id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/keys", params=params)).json()
        seen += [k["id"] for k in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    bad = await client.get("/api/keys", params={"cursor": "garbage!"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_cursor"


async def test_key_creation_is_rate_limited(signed_in: SignedIn) -> None:
    client = await signed_in()
    statuses = [
        (await client.post("/api/keys", json={"name": f"k{i}"})).status_code for i in range(21)
    ]
    assert statuses[:20] == [201] * 20
    assert statuses[20] == 429
