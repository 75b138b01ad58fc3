"""Social sign-in (better-auth's /sign-in/social and /callback/{provider}) against a real
OAuth 2.0 / OIDC authorization server stand-in on a loopback port: state bound to the
browser, PKCE, id_token checks, linking by verified email only, list/unlink accounts."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from everything_app.auth import Account, User
from everything_app.core.http_protocol import HTTP_PROTOCOL
from everything_app.testing import OAuthServerStandin, serve
from everything_app.testing import User as ProviderUser
from tests.conftest import (
    BASE_URL,
    AppWith,
    Running,
    privileged_db,
    require_service,
    sign_up,
    unique_email,
)

CLIENT_ID = "everything-app"
CLIENT_SECRET = "s3cret-for-tests"
JS_DIR = Path(__file__).resolve().parents[1] / "js"
NODE = shutil.which("node")


@pytest.fixture
async def provider() -> AsyncIterator[OAuthServerStandin]:
    server = OAuthServerStandin()
    async with server.running():
        server.register(CLIENT_ID, CLIENT_SECRET, f"{BASE_URL}/api/auth/callback/acme")
        yield server


async def _app(app_with: AppWith, provider: OAuthServerStandin, **overrides: Any) -> Running:
    config = {
        "id": "acme",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "discovery_url": f"{provider.issuer}/.well-known/openid-configuration",
    }
    return await app_with(oauth_providers=[config], **overrides)


@dataclass
class Finished:
    response: httpx.Response  # our callback's answer

    @property
    def location(self) -> str:
        return self.response.headers["location"]

    @property
    def error(self) -> str | None:
        return parse_qs(urlsplit(self.location).query).get("error", [None])[0]


async def _authorize(url: str) -> str:
    """The browser at the provider: it redirects back to our callback (with code, state)."""
    async with httpx.AsyncClient() as browser:
        response = await browser.get(url)
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def _start(client: httpx.AsyncClient, **body: Any) -> str:
    body = {"provider": "acme", "callbackURL": "/dashboard", **body}
    response = await client.post("/api/auth/sign-in/social", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["redirect"] is True
    assert response.headers["location"] == data["url"]
    url: str = data["url"]
    return url


async def _sign_in(client: httpx.AsyncClient, **body: Any) -> Finished:
    back = await _authorize(await _start(client, **body))
    return Finished(await client.get(back))


def _session_cookie(response: httpx.Response) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith("better-auth.session_token=") and "Max-Age=0" not in header:
            return header
    return None


async def _me(client: httpx.AsyncClient) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get("/api/auth/get-session")).json()
    return body


async def _confirm_email(running: Running, user_id: str) -> None:
    """What following the verification mail's link does (tested in test_email_verification)."""
    async with privileged_db(running.app) as db:
        user = await db.get(User, uuid.UUID(user_id))
        assert user is not None
        user.email_verified = True
        await db.commit()


async def _count(running: Running, model: type[Any]) -> int:
    async with privileged_db(running.app) as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_sign_in_creates_a_user_once_and_sets_the_session_cookie(
    app_with: AppWith, provider: OAuthServerStandin
) -> None:
    running = await _app(app_with, provider)
    email = unique_email("social")
    provider.login(ProviderUser(sub="p-1", email=email, email_verified=True, name="Ann"))
    browser = running.client()
    url = await _start(browser)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [f"{BASE_URL}/api/auth/callback/acme"]
    assert "nonce" in query
    assert "openid" in query["scope"][0].split()
    finished = Finished(await browser.get(await _authorize(url)))
    assert finished.response.status_code == 302
    assert finished.location == "/dashboard"
    cookie = _session_cookie(finished.response)
    assert cookie is not None
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    me = await _me(browser)
    assert me["user"]["email"] == email
    assert me["user"]["name"] == "Ann"
    assert me["user"]["emailVerified"] is True
    # Signing in again (another browser) is the same user; no second account row.
    again = running.client()
    assert (await _sign_in(again)).location == "/dashboard"
    assert (await _me(again))["user"]["id"] == me["user"]["id"]
    assert await _count(running, Account) == 1
    assert await _count(running, User) == 1
    # A password sign-in is impossible for this user (no password), and says nothing more.
    refused = await running.client().post(
        "/api/auth/sign-in/email", json={"email": email, "password": "whatever-password"}
    )
    assert refused.status_code == 401
    assert refused.json()["code"] == "INVALID_EMAIL_OR_PASSWORD"


async def test_new_user_callback_url(app_with: AppWith, provider: OAuthServerStandin) -> None:
    running = await _app(app_with, provider)
    provider.login(ProviderUser(sub="p-new", email=unique_email(), email_verified=True))
    first = await _sign_in(running.client(), newUserCallbackURL="/welcome")
    assert first.location == "/welcome"
    second = await _sign_in(running.client(), newUserCallbackURL="/welcome")
    assert second.location == "/dashboard"


async def test_a_forged_or_foreign_state_is_refused(
    app_with: AppWith, provider: OAuthServerStandin
) -> None:
    running = await _app(app_with, provider)
    provider.login(ProviderUser(sub="p-2", email=unique_email(), email_verified=True))
    browser = running.client()
    back = await _authorize(await _start(browser))
    forged = back.replace("state=", "state=x")
    refused = Finished(await browser.get(forged))
    assert refused.error == "state_mismatch"
    assert refused.location.startswith(f"{BASE_URL}/api/auth/error?")
    assert _session_cookie(refused.response) is None
    # Another browser (without the state cookie) can not finish this browser's sign-in.
    victim = running.client()
    stolen = Finished(await victim.get(back))
    assert stolen.error == "state_mismatch"
    assert _session_cookie(stolen.response) is None
    # No state at all.
    bare = Finished(await browser.get("/api/auth/callback/acme?code=abc"))
    assert bare.error == "state_not_found"
    page = await browser.get(bare.location)
    assert page.status_code == 400
    assert "state_not_found" in page.text
    assert await _count(running, User) == 0


async def test_a_replayed_code_or_state_is_refused(
    app_with: AppWith, provider: OAuthServerStandin
) -> None:
    running = await _app(app_with, provider)
    provider.login(ProviderUser(sub="p-3", email=unique_email(), email_verified=True))
    browser = running.client()
    back = await _authorize(await _start(browser))
    assert (Finished(await browser.get(back))).location == "/dashboard"
    replay = running.client()
    url = await _start(replay)
    state = parse_qs(urlsplit(url).query)["state"][0]
    code = parse_qs(urlsplit(back).query)["code"][0]
    # A fresh, valid state with the already-used code: the provider refuses the code.
    reused = Finished(await replay.get(f"/api/auth/callback/acme?code={code}&state={state}"))
    assert reused.error == "invalid_code"
    assert _session_cookie(reused.response) is None
    # And the used state can not be used again either, even by its own browser.
    again = Finished(await replay.get(f"/api/auth/callback/acme?code={code}&state={state}"))
    assert again.error == "state_mismatch"


async def test_the_pkce_verifier_is_sent_and_checked(
    app_with: AppWith, provider: OAuthServerStandin
) -> None:
    running = await _app(app_with, provider)
    provider.login(ProviderUser(sub="p-4", email=unique_email(), email_verified=True))
    assert (await _sign_in(running.client())).location == "/dashboard"
    sent = provider.token_requests[-1]
    assert len(sent["code_verifier"]) >= 43
    # The stand-in refuses a wrong verifier (what a stolen code without it gets).
    async with httpx.AsyncClient(base_url=provider.issuer) as http:
        provider.register("other", "pw", "http://127.0.0.1/cb")
        provider.login(ProviderUser(sub="p-5"))
        authorize = await http.get(
            "/authorize",
            params={
                "client_id": "other",
                "redirect_uri": "http://127.0.0.1/cb",
                "response_type": "code",
                "code_challenge": "A" * 43,
                "code_challenge_method": "S256",
                "state": "s",
            },
        )
        code = parse_qs(urlsplit(authorize.headers["location"]).query)["code"][0]
        token = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "http://127.0.0.1/cb",
                "code_verifier": "B" * 43,
            },
            auth=("other", "pw"),
        )
    assert token.status_code == 400
    assert token.json()["error"] == "invalid_grant"


async def test_an_id_token_for_another_audience_is_refused(
    app_with: AppWith, provider: OAuthServerStandin
) -> None:
    running = await _app(app_with, provider)
    provider.login(ProviderUser(sub="p-6", email=unique_email(), email_verified=True))
    provider.id_token_audience = "some-other-client"
    refused = await _sign_in(running.client())
    assert refused.error == "unable_to_get_user_info"
    assert _session_cookie(refused.response) is None
    assert await _count(running, User) == 0


async def test_linking_to_an_existing_user_needs_a_verified_email(
    app_with: AppWith, provider: OAuthServerStandin
) -> None:
    running = await _app(app_with, provider)
    email = unique_email("owner")
    owner = await sign_up(running.client(), email)
    # The provider does not vouch for the address: no link, no new account for it.
    provider.login(ProviderUser(sub="unverified", email=email, email_verified=False))
    refused = await _sign_in(running.client(), errorCallbackURL="/sign-in-failed")
    assert refused.error == "account_not_linked"
    assert refused.location.startswith("/sign-in-failed?")
    assert await _count(running, Account) == 0
    # It does, but our user never confirmed the address (it may be a squatter's account,
    # waiting for the real owner's social sign-in): no link either.
    provider.login(ProviderUser(sub="verified", email=email.upper(), email_verified=True))
    squatted = await _sign_in(running.client())
    assert squatted.error == "account_not_linked"
    assert await _count(running, Account) == 0
    # Both have verified it: the account is linked to the existing user.
    await _confirm_email(running, owner["user"]["id"])
    browser = running.client()
    assert (await _sign_in(browser)).location == "/dashboard"
    me = await _me(browser)
    assert me["user"]["id"] == owner["user"]["id"]
    accounts = (await browser.get("/api/auth/list-accounts")).json()
    assert sorted(a["providerId"] for a in accounts) == ["acme", "credential"]
    acme = next(a for a in accounts if a["providerId"] == "acme")
    assert acme["accountId"] == "verified"
    assert acme["userId"] == owner["user"]["id"]
    assert "openid" in acme["scopes"]


async def test_an_unverified_email_never_becomes_a_new_users_address(
    app_with: AppWith, provider: OAuthServerStandin
) -> None:
    running = await _app(app_with, provider)
    email = unique_email("squat")
    provider.login(ProviderUser(sub="squatter", email=email, email_verified=False))
    browser = running.client()
    assert (await _sign_in(browser)).location == "/dashboard"
    assert (await _me(browser))["user"]["email"] != email
    # The address stays free for its owner.
    await sign_up(running.client(), email)


async def test_list_and_unlink_accounts(app_with: AppWith, provider: OAuthServerStandin) -> None:
    running = await _app(app_with, provider)
    # A user who signs in only with the provider can not unlink it (the last way in).
    provider.login(ProviderUser(sub="only", email=unique_email(), email_verified=True))
    social_only = running.client()
    await _sign_in(social_only)
    listed = (await social_only.get("/api/auth/list-accounts")).json()
    assert [a["providerId"] for a in listed] == ["acme"]
    last = await social_only.post("/api/auth/unlink-account", json={"providerId": "acme"})
    assert last.status_code == 400
    assert last.json()["code"] == "FAILED_TO_UNLINK_LAST_ACCOUNT"
    # A password user with the provider linked can.
    email = unique_email("both")
    both_user = await sign_up(running.client(), email)
    await _confirm_email(running, both_user["user"]["id"])
    provider.login(ProviderUser(sub="both", email=email, email_verified=True))
    both = running.client()
    await _sign_in(both)
    listed = (await both.get("/api/auth/list-accounts")).json()
    acme = next(a for a in listed if a["providerId"] == "acme")
    missing = await both.post("/api/auth/unlink-account", json={"accountId": str(uuid.uuid4())})
    assert missing.status_code == 400
    assert missing.json()["code"] == "ACCOUNT_NOT_FOUND"
    # Another user's account id is not found either.
    other = (await social_only.get("/api/auth/list-accounts")).json()[0]
    theirs = await both.post("/api/auth/unlink-account", json={"accountId": other["id"]})
    assert theirs.json()["code"] == "ACCOUNT_NOT_FOUND"
    done = await both.post("/api/auth/unlink-account", json={"accountId": acme["id"]})
    assert done.status_code == 200, done.text
    assert done.json() == {"status": True}
    listed = (await both.get("/api/auth/list-accounts")).json()
    assert [a["providerId"] for a in listed] == ["credential"]
    assert (await running.client().get("/api/auth/list-accounts")).status_code == 401


async def test_bad_starts(app_with: AppWith, provider: OAuthServerStandin) -> None:
    running = await _app(app_with, provider, github_client_id="gh-id", github_client_secret="x")
    client = running.client()
    unknown = await client.post("/api/auth/sign-in/social", json={"provider": "myspace"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "PROVIDER_NOT_FOUND"
    for bad in ("https://evil.example/", "//evil.example", "javascript:alert(1)"):
        response = await client.post(
            "/api/auth/sign-in/social", json={"provider": "acme", "callbackURL": bad}
        )
        assert response.status_code == 403, bad
        assert response.json()["code"] == "INVALID_CALLBACK_URL"
    foreign = running.client(origin="https://evil.example")
    csrf = await foreign.post("/api/auth/sign-in/social", json={"provider": "acme"})
    assert csrf.status_code == 403
    # GitHub: its own authorization endpoint, PKCE and scopes.
    github = await client.post(
        "/api/auth/sign-in/social", json={"provider": "github", "disableRedirect": True}
    )
    assert github.status_code == 200
    assert github.json()["redirect"] is False
    url = urlsplit(github.json()["url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://github.com/login/oauth/authorize"
    query = parse_qs(url.query)
    assert query["client_id"] == ["gh-id"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["read:user user:email"]


async def test_the_better_auth_client_starts_the_flow(
    app_with: AppWith, provider: OAuthServerStandin
) -> None:
    """`authClient.signIn.social({provider, callbackURL})` from the real npm client, then the
    browser's part (provider, callback) through httpx."""
    require_service(
        NODE is not None and (JS_DIR / "node_modules" / "better-auth").is_dir(),
        "node and tests/js/node_modules (with better-auth) are needed: npm ci in tests/js",
    )
    assert NODE is not None
    running = await _app(app_with, provider)
    email = unique_email("js")
    provider.login(ProviderUser(sub="js-user", email=email, email_verified=True))
    async with serve(running.app, http=HTTP_PROTOCOL) as url:
        process = await asyncio.create_subprocess_exec(
            NODE,
            str(JS_DIR / "social_sign_in.mjs"),
            url,
            "acme",
            "/dashboard",
            cwd=JS_DIR,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()[-2000:]
    result = json.loads(out)
    assert result["error"] is None
    assert result["data"]["redirect"] is True
    authorize_url = result["data"]["url"]
    assert authorize_url.startswith(f"{provider.issuer}/authorize?")
    # The browser keeps the state cookie the client received, follows the provider's redirect.
    browser = running.client()
    state_cookie = next(c for c in result["cookies"] if c.startswith("better-auth.state="))
    pair = state_cookie.split(";", 1)[0]
    back = await _authorize(authorize_url)
    finished = Finished(await browser.get(back, headers={"Cookie": pair}))
    assert finished.location == "/dashboard"
    assert (await _me(browser))["user"]["email"] == email


async def test_github_flow_with_its_api_shapes(
    app_with: AppWith, provider: OAuthServerStandin
) -> None:
    """GitHub (no OIDC): the user from `GET /user`, the verified primary email from
    `GET /user/emails`, `accountId` the numeric user id; GITHUB_URL / GITHUB_API_URL point
    at the stand-in as they would at a GitHub Enterprise Server."""
    provider.register("gh-client", "gh-secret", f"{BASE_URL}/api/auth/callback/github")
    running = await app_with(
        github_client_id="gh-client",
        github_client_secret="gh-secret",
        github_url=provider.issuer,
        github_api_url=provider.issuer,
    )
    email = unique_email("octo")
    octocat = ProviderUser(sub="octocat", email=email, email_verified=True, name="Octo Cat")
    provider.login(octocat)
    browser = running.client()
    finished = await _sign_in(browser, provider="github")
    assert finished.location == "/dashboard", finished.location
    me = await _me(browser)
    assert me["user"]["email"] == email
    assert me["user"]["name"] == "Octo Cat"
    accounts = (await browser.get("/api/auth/list-accounts")).json()
    assert [(a["providerId"], a["accountId"]) for a in accounts] == [
        ("github", str(OAuthServerStandin.github_id(octocat)))
    ]
    # The client secret went in the body (GitHub's way), with the PKCE verifier.
    sent = provider.token_requests[-1]
    assert sent["client_secret"] == "gh-secret"
    assert sent["code_verifier"]
