"""Bearer JWTs from an external OIDC issuer (OIDC_ISSUERS), against a real issuer stand-in
on a loopback port: discovery, JWKS, signatures, claims, rotation, first-sight users, and the
realtime handshake."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from everything_app.auth import OidcIdentity, User
from everything_app.testing import OidcIssuerStandin, generate_key, unsigned_token
from tests.conftest import AppWith, Running, privileged_db, sign_up, unique_email
from tests.realtime.conftest import FAST
from tests.realtime.support import live, serve_instance

AUDIENCE = "everything-api"


@pytest.fixture
async def issuer() -> AsyncIterator[OidcIssuerStandin]:
    standin = OidcIssuerStandin()
    async with standin.running():
        yield standin


async def _app(app_with: AppWith, issuer: OidcIssuerStandin, **overrides: Any) -> Running:
    return await app_with(
        oidc_issuers=[{"issuer": issuer.issuer, "audience": AUDIENCE}], **overrides
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/auth/list-sessions", headers=_bearer(token))


async def _session(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/api/auth/get-session", headers=_bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _links(running: Running, subject: str) -> int:
    async with privileged_db(running.app) as db:
        count = await db.scalar(
            select(func.count()).select_from(OidcIdentity).where(OidcIdentity.subject == subject)
        )
    return int(count or 0)


async def test_a_token_signs_in_a_user_created_once_who_owns_rows(
    app_with: AppWith, issuer: OidcIssuerStandin
) -> None:
    running = await _app(app_with, issuer)
    client = running.client(origin=None)
    sub = f"user_{uuid.uuid4().hex}"
    email = unique_email("jwt")
    first = await _session(
        client, issuer.issue(sub=sub, aud=AUDIENCE, email=email, email_verified=True)
    )
    # A new token for the same subject (another login) is the same user.
    again = await _session(client, issuer.issue(sub=sub, aud=AUDIENCE, name="Changed"))
    assert first["user"]["id"] == again["user"]["id"]
    assert first["user"]["email"] == email
    assert first["user"]["emailVerified"] is True
    assert await _links(running, sub) == 1

    token = issuer.issue(sub=sub, aud=AUDIENCE)
    created = await client.post("/api/tasks", json={"title": "From Clerk"}, headers=_bearer(token))
    assert created.status_code in (200, 201), created.text
    mine = await client.get("/api/tasks", headers=_bearer(token))
    assert [t["title"] for t in mine.json()["data"]] == ["From Clerk"]
    # Another subject of the same issuer is another user: the row is not theirs.
    other = issuer.issue(sub=f"other_{uuid.uuid4().hex}", aud=AUDIENCE)
    theirs = await client.get("/api/tasks", headers=_bearer(other))
    assert theirs.json()["data"] == []
    task_id = created.json()["id"]
    assert (await client.get(f"/api/tasks/{task_id}", headers=_bearer(other))).status_code == 404


async def test_an_email_never_takes_over_an_existing_account(
    app_with: AppWith, issuer: OidcIssuerStandin
) -> None:
    running = await _app(app_with, issuer)
    client = running.client(origin=None)
    victim = unique_email("victim")
    owner = await sign_up(running.client(), victim)
    token = issuer.issue(sub="attacker", aud=AUDIENCE, email=victim, email_verified=True)
    session = await _session(client, token)
    assert session["user"]["id"] != owner["user"]["id"]
    assert session["user"]["email"] != victim
    assert session["user"]["emailVerified"] is False
    # An unverified email is not taken either.
    unverified = unique_email("unverified")
    token = issuer.issue(sub="u2", aud=AUDIENCE, email=unverified, email_verified=False)
    assert (await _session(client, token))["user"]["email"] != unverified


def _hs256_with_public_key(issuer: OidcIssuerStandin) -> str:
    """The algorithm-confusion attack: HS256, keyed with the issuer's public key."""
    public = issuer.signing_key.as_pem(private=False)
    header = {"alg": "HS256", "typ": "JWT", "kid": issuer.signing_key.kid}
    now = int(time.time())
    claims = {"iss": issuer.issuer, "aud": AUDIENCE, "sub": "x", "iat": now, "exp": now + 60}

    def part(data: dict[str, Any] | bytes) -> str:
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{part(header)}.{part(claims)}"
    signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


BAD_TOKENS = [
    "wrong_audience",
    "wrong_issuer",
    "expired",
    "not_yet_valid",
    "alg_none",
    "hs256_public_key",
    "unknown_key",
    "unknown_key_same_kid",
    "no_subject",
    "tampered",
]


def _bad_token(kind: str, issuer: OidcIssuerStandin, other: OidcIssuerStandin) -> str:
    now = int(time.time())
    if kind == "wrong_audience":
        return issuer.issue(sub="s", aud="someone-else")
    if kind == "wrong_issuer":
        return other.issue(sub="s", aud=AUDIENCE)
    if kind == "expired":
        return issuer.issue(sub="s", aud=AUDIENCE, expires_in=-120)
    if kind == "not_yet_valid":
        return issuer.issue(sub="s", aud=AUDIENCE, not_before=now + 600)
    if kind == "alg_none":
        claims = {"iss": issuer.issuer, "aud": AUDIENCE, "sub": "s", "exp": now + 60}
        return unsigned_token(claims, {"kid": issuer.signing_key.kid})
    if kind == "hs256_public_key":
        return _hs256_with_public_key(issuer)
    if kind == "unknown_key":
        return issuer.issue(sub="s", aud=AUDIENCE, key=generate_key())
    if kind == "unknown_key_same_kid":  # a key of its own, under the published key's id
        return issuer.issue(sub="s", aud=AUDIENCE, key=generate_key(kid=issuer.signing_key.kid))
    if kind == "no_subject":
        return issuer.issue(sub="", aud=AUDIENCE)
    assert kind == "tampered"
    head, body, signature = issuer.issue(sub="s", aud=AUDIENCE).split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{signature}"


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_bad_tokens_are_401(app_with: AppWith, issuer: OidcIssuerStandin, kind: str) -> None:
    running = await _app(app_with, issuer)
    client = running.client(origin=None)
    other = OidcIssuerStandin()
    async with other.running():
        token = _bad_token(kind, issuer, other)
    assert (await _me(client, issuer.issue(sub="warm", aud=AUDIENCE))).status_code == 200
    response = await _me(client, token)
    assert response.status_code == 401, response.text
    # get-session (public) answers 401 too rather than "signed out", for our issuer's tokens.
    if kind not in ("wrong_issuer",):
        assert (
            await client.get("/api/auth/get-session", headers=_bearer(token))
        ).status_code == 401
    async with privileged_db(running.app) as db:
        users = await db.scalar(select(func.count()).select_from(User))
    assert users == 1  # only "warm": nobody was created for a refused token


async def test_key_rotation_is_picked_up_and_unknown_kids_are_rate_limited(
    app_with: AppWith, issuer: OidcIssuerStandin
) -> None:
    running = await _app(app_with, issuer, oidc_jwks_refetch_seconds=3600)
    client = running.client(origin=None)
    assert (await _me(client, issuer.issue(sub="a", aud=AUDIENCE))).status_code == 200
    assert issuer.jwks_requests == 1
    # The issuer rotates (old key withdrawn): the first token with the new key id triggers
    # one refetch...
    old = issuer.signing_key
    issuer.rotate(keep_old=False)
    assert (await _me(client, issuer.issue(sub="a", aud=AUDIENCE))).status_code == 200
    assert issuer.jwks_requests == 2
    # ... and tokens signed with the withdrawn key are refused from then on.
    assert (await _me(client, issuer.issue(sub="a", aud=AUDIENCE, key=old))).status_code == 401
    # Made-up key ids do not make us hammer the issuer.
    for _ in range(5):
        forged = issuer.issue(sub="a", aud=AUDIENCE, key=generate_key())
        assert (await _me(client, forged)).status_code == 401
    assert issuer.jwks_requests == 2


async def test_rotation_refetch_when_allowed(app_with: AppWith, issuer: OidcIssuerStandin) -> None:
    running = await _app(app_with, issuer, oidc_jwks_refetch_seconds=0)
    client = running.client(origin=None)
    assert (await _me(client, issuer.issue(sub="a", aud=AUDIENCE))).status_code == 200
    for _ in range(3):
        issuer.rotate(keep_old=False)
        assert (await _me(client, issuer.issue(sub="a", aud=AUDIENCE))).status_code == 200


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
async def test_other_asymmetric_algorithms(app_with: AppWith, alg: str) -> None:
    issuer = OidcIssuerStandin(alg=alg)
    async with issuer.running():
        running = await _app(app_with, issuer)
        token = issuer.issue(sub="ec", aud=AUDIENCE)
        assert (await _me(running.client(origin=None), token)).status_code == 200


async def test_explicit_jwks_url_and_audience_list(
    app_with: AppWith, issuer: OidcIssuerStandin
) -> None:
    running = await app_with(
        oidc_issuers=[
            {
                "issuer": issuer.issuer,
                "audience": ["a", AUDIENCE],
                "jwks_url": f"{issuer.issuer}/jwks",
            }
        ]
    )
    token = issuer.issue(sub="x", aud=[AUDIENCE, "unrelated"])
    assert (await _me(running.client(origin=None), token)).status_code == 200


async def test_an_unreachable_issuer_is_503_not_a_crash(app_with: AppWith) -> None:
    issuer = OidcIssuerStandin()
    async with issuer.running():
        token = issuer.issue(sub="x", aud=AUDIENCE)
        url = issuer.issuer
    running = await app_with(oidc_issuers=[{"issuer": url, "audience": AUDIENCE}])
    response = await _me(running.client(origin=None), token)
    assert response.status_code == 503
    assert response.json()["code"] == "IDENTITY_PROVIDER_UNAVAILABLE"


@pytest.mark.parametrize(
    "value",
    [
        '[{"issuer": "http://example.com", "audience": "a"}]',  # plain http off loopback
        '[{"issuer": "https://a.example", "audience": []}]',
        '[{"issuer": "https://a.example"}]',
        '[{"issuer": "https://a.example", "audience": "a", "extra": 1}]',
        "not json",
    ],
)
def test_bad_oidc_issuers_fail_at_start(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from everything_app.settings import Settings

    monkeypatch.setenv("OIDC_ISSUERS", value)
    with pytest.raises((ValidationError, ValueError)):
        Settings()


async def test_realtime_handshake_with_a_jwt(app_with: AppWith, issuer: OidcIssuerStandin) -> None:
    from contextlib import AsyncExitStack

    running = await _app(app_with, issuer, **FAST)
    async with AsyncExitStack() as stack:
        instance = await serve_instance(stack, running.app)
        token = issuer.issue(sub="live-user", aud=AUDIENCE)
        async with live(instance, headers=_bearer(token)) as client:
            first = await client.subscribe("k", "keys.list")
            assert first["type"] == "result"
            # A revalidation round keeps a valid JWT's socket open.
            await instance.hub.revalidate()
            assert await client.barrier() == []
        expired = issuer.issue(sub="live-user", aud=AUDIENCE, expires_in=-120)
        async with live(instance, headers=_bearer(expired)) as client:
            assert await client.closed() == (4401, "unauthenticated")


@pytest.mark.slow  # waits (on the socket's close, not a sleep) for a token to expire
async def test_an_expiring_jwt_ends_its_socket_and_its_cached_credential(
    app_with: AppWith, issuer: OidcIssuerStandin
) -> None:
    from contextlib import AsyncExitStack

    running = await _app(
        app_with, issuer, **{**FAST, "oidc_leeway_seconds": 0, "realtime_revalidate_seconds": 0.2}
    )
    client = running.client(origin=None)
    async with AsyncExitStack() as stack:
        instance = await serve_instance(stack, running.app)
        token = issuer.issue(sub="short-lived", aud=AUDIENCE, expires_in=5)
        assert (await _me(client, token)).status_code == 200  # verified, and now cached
        async with live(instance, headers=_bearer(token)) as socket:
            assert (await socket.subscribe("k", "keys.list"))["type"] == "result"
            # The periodic re-check (every 0.2 s here) closes it once the token's `exp` has passed.
            assert await socket.closed() == (4401, "credentials_expired")
    # The cached credential ended with it: 401 at once, not after AUTH_CACHE_SECONDS.
    assert time.time() >= json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["exp"]
    assert (await _me(client, token)).status_code == 401
