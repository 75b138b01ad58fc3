"""better-auth email/password flows, their error codes, and the seeds' aliases."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from everything_app.auth.models import Session, User
from everything_app.core.db import utcnow
from everything_app.core.security import token_hash
from tests.conftest import (
    PASSWORD,
    AppWith,
    ClientFactory,
    SignedIn,
    privileged_db,
    sign_up,
    unique_email,
)


async def test_sign_up_get_session_sign_out_cycle(client: httpx.AsyncClient) -> None:
    email = unique_email()
    body = await sign_up(client, email=email.upper(), name="Ada")
    assert body["user"]["email"] == email  # lower-cased before storage
    assert body["user"]["name"] == "Ada"
    assert body["user"]["emailVerified"] is False
    assert len(body["token"]) >= 43  # 256 bits, URL-safe base64

    session = await client.get("/api/auth/get-session")
    assert session.status_code == 200
    data = session.json()
    assert data["user"]["id"] == body["user"]["id"]
    assert data["session"]["userId"] == body["user"]["id"]
    assert data["session"]["token"] == body["token"]

    out = await client.post("/api/auth/sign-out")
    assert out.json() == {"success": True}
    assert "Max-Age=0" in out.headers["set-cookie"]
    after = await client.get("/api/auth/get-session")
    assert after.status_code == 200
    assert after.json() is None


async def test_cookie_attributes_and_signature(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/sign-up/email",
        json={"email": unique_email(), "password": PASSWORD, "name": "C"},
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("better-auth.session_token=")
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/", f"Max-Age={7 * 24 * 3600}"):
        assert attribute in cookie
    assert "Secure" not in cookie  # served over http here
    token = response.json()["token"]
    value = cookie.split(";")[0].split("=", 1)[1]
    assert value.startswith(token + ".")  # token.signature, URL-encoded


async def test_tampered_cookie_is_not_a_session(new_client: ClientFactory) -> None:
    client = new_client()
    token = (await sign_up(client))["token"]
    forged = new_client()
    forged.cookies.set("better-auth.session_token", f"{token}.AAAA")
    assert (await forged.get("/api/auth/get-session")).json() is None


async def test_a_cookie_once_accepted_still_needs_its_signature_and_its_secret(
    app_with: AppWith,
) -> None:
    """The process remembers cookies whose signature checked out: only those exact values,
    under the secret that signed them."""
    first = await app_with(secret_key="a" * 40)
    client = first.client()
    token = (await sign_up(client))["token"]
    assert (await client.get("/api/auth/get-session")).json()["session"]["token"] == token
    signed = client.cookies["better-auth.session_token"]
    for value in (f"{token}.AAAA", signed[:-3] + "AAA", f"{token}x.{signed.split('.')[-1]}"):
        forged = first.client()
        forged.cookies.set("better-auth.session_token", value)
        assert (await forged.get("/api/auth/get-session")).json() is None, value
    other_secret = await app_with(secret_key="b" * 40)  # the same database and session row
    stranger = other_secret.client()
    stranger.cookies.set("better-auth.session_token", signed)
    assert (await stranger.get("/api/auth/get-session")).json() is None
    same = first.client()
    same.cookies.set("better-auth.session_token", signed)
    assert (await same.get("/api/auth/get-session")).json()["session"]["token"] == token


async def test_bearer_token_authenticates(new_client: ClientFactory) -> None:
    token = (await sign_up(new_client()))["token"]
    bare = new_client()
    response = await bare.get("/api/auth/get-session", headers={"Authorization": f"Bearer {token}"})
    assert response.json()["session"]["token"] == token


async def test_sign_in_returns_token_and_cookie(new_client: ClientFactory) -> None:
    email = unique_email()
    await sign_up(new_client(), email=email)
    client = new_client()
    response = await client.post(
        "/api/auth/sign-in/email", json={"email": email.title(), "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["redirect"] is False
    assert "url" not in body  # optional fields are omitted, not null
    assert body["user"]["email"] == email
    me = await client.get("/api/auth/get-session")
    assert me.json()["session"]["token"] == body["token"]


async def test_remember_me_false_gives_session_cookie(new_client: ClientFactory) -> None:
    email = unique_email()
    await sign_up(new_client(), email=email)
    response = await new_client().post(
        "/api/auth/sign-in/email", json={"email": email, "password": PASSWORD, "rememberMe": False}
    )
    assert "Max-Age" not in response.headers["set-cookie"]


async def test_wrong_password_and_unknown_email_answer_alike(new_client: ClientFactory) -> None:
    email = unique_email()
    await sign_up(new_client(), email=email)
    client = new_client()
    wrong = await client.post(
        "/api/auth/sign-in/email", json={"email": email, "password": "wrong password!"}
    )
    unknown = await client.post(
        "/api/auth/sign-in/email", json={"email": unique_email(), "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "code": "INVALID_EMAIL_OR_PASSWORD",
            "message": "Invalid email or password",
        }
    )
    assert "set-cookie" not in wrong.headers


async def test_duplicate_email_in_other_case(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await sign_up(client, email=email)
    again = await client.post(
        "/api/auth/sign-up/email", json={"email": email.upper(), "password": PASSWORD, "name": "B"}
    )
    assert again.status_code == 422
    assert again.json()["code"] == "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "name": "x"}, "INVALID_EMAIL"),
        ({"email": "a@example.com", "password": "short", "name": "x"}, "PASSWORD_TOO_SHORT"),
        ({"email": "a@example.com", "password": "x" * 129, "name": "x"}, "PASSWORD_TOO_LONG"),
        ({"email": "a@example.com", "name": "x"}, "VALIDATION_ERROR"),
    ],
)
async def test_sign_up_rejects_bad_input(
    client: httpx.AsyncClient, app: FastAPI, body: dict[str, str], code: str
) -> None:
    response = await client.post("/api/auth/sign-up/email", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == code
    async with privileged_db(app) as db:
        assert (await db.execute(select(User))).first() is None  # nothing half-written


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/sign-in/email",
        content=b'{"email": "a@example.com", "password":',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_JSON"


@pytest.mark.parametrize("path", ["/api/auth/sign-up", "/api/auth/register"])
async def test_seed_sign_up_aliases(client: httpx.AsyncClient, path: str) -> None:
    email = unique_email()
    response = await client.post(path, json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token"]
    assert body["user"]["name"] == email.split("@")[0]


@pytest.mark.parametrize("path", ["/api/auth/sign-in", "/api/auth/login"])
async def test_seed_sign_in_aliases(new_client: ClientFactory, path: str) -> None:
    email = unique_email()
    await sign_up(new_client(), email=email)
    response = await new_client().post(path, json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["token"]


async def test_role_cannot_be_chosen_at_sign_up(client: httpx.AsyncClient, app: FastAPI) -> None:
    response = await client.post(
        "/api/auth/sign-up/email",
        json={"email": unique_email(), "password": PASSWORD, "name": "x", "role": "admin"},
    )
    assert response.status_code == 400
    assert "role" in response.json()["message"]
    async with privileged_db(app) as db:
        assert (await db.execute(select(User))).first() is None


async def test_role_cannot_be_changed_by_update_user(signed_in: SignedIn) -> None:
    client = await signed_in()
    escalate = await client.post("/api/auth/update-user", json={"role": "admin"})
    assert escalate.status_code == 400
    renamed = await client.post("/api/auth/update-user", json={"name": "New Name"})
    assert renamed.status_code == 200
    user = (await client.get("/api/auth/get-session")).json()["user"]
    assert user["role"] == "user"
    assert user["name"] == "New Name"
    admin_only = await client.get("/api/auth/admin/list-users")
    assert admin_only.status_code == 403


async def test_expired_session_is_signed_out(client: httpx.AsyncClient, app: FastAPI) -> None:
    token = (await sign_up(client))["token"]
    async with privileged_db(app) as db:
        await db.execute(
            update(Session)
            .where(Session.token_hash == token_hash(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await db.commit()
    assert (await client.get("/api/auth/get-session")).json() is None
    assert (await client.get("/api/keys")).status_code == 401
    async with privileged_db(app) as db:  # the dead row was removed
        assert (await db.execute(select(Session))).first() is None


async def test_session_slides_forward_after_update_age(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    token = (await sign_up(client))["token"]
    settings = app.state.settings
    stale = utcnow() + timedelta(seconds=settings.session_ttl_seconds) - timedelta(days=2)
    async with privileged_db(app) as db:
        await db.execute(
            update(Session).where(Session.token_hash == token_hash(token)).values(expires_at=stale)
        )
        await db.commit()
    response = await client.get("/api/auth/get-session")
    assert "set-cookie" in response.headers  # the cookie's Max-Age is renewed too
    async with privileged_db(app) as db:
        row = (await db.execute(select(Session))).scalar_one()
    assert row.expires_at > stale + timedelta(days=1)


async def test_fresh_session_is_not_rewritten(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    response = await client.get("/api/auth/get-session")
    assert "set-cookie" not in response.headers


async def test_callback_url_must_be_trusted(new_client: ClientFactory) -> None:
    email = unique_email()
    await sign_up(new_client(), email=email)
    client = new_client()
    evil = await client.post(
        "/api/auth/sign-in/email",
        json={"email": email, "password": PASSWORD, "callbackURL": "https://evil.example/x"},
    )
    assert evil.status_code == 403
    assert evil.json()["code"] == "INVALID_CALLBACK_URL"
    ok = await client.post(
        "/api/auth/sign-in/email",
        json={"email": email, "password": PASSWORD, "callbackURL": "/dashboard"},
    )
    assert ok.json()["redirect"] is True
    assert ok.json()["url"] == "/dashboard"


@pytest.mark.parametrize(
    "target",
    ["/\\evil.example", "/\t/evil.example", "//evil.example", "javascript:alert(1)"],
)
@pytest.mark.parametrize("path", ["/api/auth/sign-in/email", "/api/auth/sign-up/email"])
async def test_callback_urls_a_browser_reads_as_foreign_are_refused(
    new_client: ClientFactory, target: str, path: str
) -> None:
    email = unique_email()
    if path.startswith("/api/auth/sign-in"):
        await sign_up(new_client(), email=email)
    client = new_client()
    body = {"email": email, "password": PASSWORD, "name": "x", "callbackURL": target}
    response = await client.post(path, json=body)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "INVALID_CALLBACK_URL"
    assert "set-cookie" not in response.headers


async def test_callback_url_comes_back_as_checked(new_client: ClientFactory) -> None:
    email = unique_email()
    await sign_up(new_client(), email=email)
    signed = await new_client().post(
        "/api/auth/sign-in/email",
        json={"email": email, "password": PASSWORD, "callbackURL": "/a\tb/../c?x#y"},
    )
    assert (signed.json()["redirect"], signed.json()["url"]) == (True, "/c?x#y")
