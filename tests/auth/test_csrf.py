"""CSRF: one reading of the session cookie decides both who the caller is and whether the
origin check applies; a bearer token or API key is never refused for a cookie riding along."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from everything_app.auth.cookies import COOKIE_NAME
from tests.conftest import (
    BASE_URL,
    PASSWORD,
    AppWith,
    ClientFactory,
    SignedIn,
    sign_up,
    unique_email,
)

EVIL = "https://evil.example"
# Unsafe routes that take no credential at all (the cookie authenticates nothing there).
CREDENTIAL_FREE = {
    "/api/auth/sign-up/email",
    "/api/auth/sign-up",
    "/api/auth/register",
    "/api/auth/sign-in/email",
    "/api/auth/sign-in",
    "/api/auth/login",
}


def _bare(new_client: ClientFactory) -> httpx.AsyncClient:
    """A client with no default headers and no cookie jar of its own use: each test says
    exactly which Cookie and Origin headers go out."""
    return httpx.AsyncClient(transport=new_client()._transport, base_url=BASE_URL)


async def _cookie_value(signed_in: SignedIn) -> str:
    client = await signed_in()
    value = client.cookies.get(COOKIE_NAME)
    assert value
    return value


def _cookie_spellings(value: str) -> dict[str, list[tuple[str, str]]]:
    """The session cookie sent three ways a server must all read as the same cookie."""
    return {
        "plain": [("cookie", f"{COOKIE_NAME}={value}")],
        # Starlette reads the first Cookie header; the removed middleware read the last.
        "two_headers": [("cookie", f"{COOKIE_NAME}={value}"), ("cookie", "theme=dark")],
        "space_before_equals": [("cookie", f"{COOKIE_NAME} ={value}")],
    }


@pytest.mark.parametrize("spelling", ["plain", "two_headers", "space_before_equals"])
async def test_foreign_cookie_writes_are_refused_however_the_cookie_is_spelled(
    signed_in: SignedIn, new_client: ClientFactory, spelling: str
) -> None:
    value = await _cookie_value(signed_in)
    cookie = _cookie_spellings(value)[spelling]
    async with _bare(new_client) as client:
        # The spelling authenticates: a same-origin read sees the session.
        me = await client.get("/api/auth/get-session", headers=cookie)
        assert me.json() is not None
        task = await client.post(
            "/api/tasks", json={"title": "forged"}, headers=[*cookie, ("origin", EVIL)]
        )
        assert (task.status_code, task.json()["error"]["code"]) == (403, "invalid_origin")
        no_origin = await client.post("/api/tasks", json={"title": "forged"}, headers=cookie)
        assert no_origin.status_code == 403
        assert no_origin.json()["error"]["code"] == "missing_or_null_origin"
        out = await client.post("/api/auth/sign-out", headers=[*cookie, ("origin", EVIL)])
        assert (out.status_code, out.json()["code"]) == (403, "INVALID_ORIGIN")
        tasks = await client.get("/api/tasks", headers=cookie)
        assert tasks.json()["data"] == []  # nothing was written
        assert (await client.get("/api/auth/get-session", headers=cookie)).json() is not None
        trusted = await client.post(
            "/api/tasks", json={"title": "mine"}, headers=[*cookie, ("origin", BASE_URL)]
        )
        assert trusted.status_code == 201


async def test_every_unsafe_route_checks_the_origin_of_a_cookie_request(
    signed_in: SignedIn, new_client: ClientFactory, app: FastAPI
) -> None:
    """Every POST/PUT/PATCH/DELETE the app serves (from its OpenAPI schema) refuses a
    cookie-authenticated request from a foreign origin, before anything else about it."""
    value = await _cookie_value(signed_in)
    cookie = _cookie_spellings(value)["space_before_equals"]
    async with _bare(new_client) as client:
        paths: dict[str, Any] = (await client.get("/openapi.json")).json()["paths"]
        checked = 0
        for path, operations in paths.items():
            for method in operations:
                if method not in ("post", "put", "patch", "delete") or path in CREDENTIAL_FREE:
                    continue
                url = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
                response = await client.request(
                    method.upper(), url, json={}, headers=[*cookie, ("origin", EVIL)]
                )
                assert response.status_code == 403, (method, path, response.text)
                checked += 1
        assert checked > 20
        assert (await client.get("/api/auth/get-session", headers=cookie)).json() is not None


async def test_bearer_and_api_key_writes_pass_with_a_stray_cookie_and_no_origin(
    new_client: ClientFactory,
) -> None:
    """What httpx and requests do: the sign-in cookie stays in the jar, the script
    authenticates with Authorization, and sends no Origin."""
    client = new_client()
    del client.headers["Origin"]
    token = (await sign_up(client))["token"]
    assert client.cookies.get(COOKIE_NAME)  # the jar holds the cookie from here on
    by_token = await client.post(
        "/api/keys", json={"name": "cli"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert by_token.status_code == 201, by_token.text
    key = by_token.json()["key"]
    by_key = await client.post(
        "/api/tasks", json={"title": "from a script"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert by_key.status_code == 201, by_key.text
    foreign = await client.post(
        "/api/tasks",
        json={"title": "any origin"},
        headers={"Authorization": f"Bearer {key}", "Origin": EVIL},
    )
    assert foreign.status_code == 201
    # The cookie alone is still held to the check.
    cookie_only = await client.post("/api/tasks", json={"title": "cookie"})
    assert cookie_only.json()["error"]["code"] == "missing_or_null_origin"


async def test_a_second_sign_up_from_a_client_holding_a_cookie(new_client: ClientFactory) -> None:
    client = new_client()
    del client.headers["Origin"]
    await sign_up(client)
    assert client.cookies.get(COOKIE_NAME)
    second = await client.post(
        "/api/auth/sign-up/email",
        json={"email": unique_email(), "password": PASSWORD, "name": "Second"},
    )
    assert second.status_code == 200, second.text
    signed_in_again = await client.post(
        "/api/auth/sign-in/email",
        json={"email": second.json()["user"]["email"], "password": PASSWORD},
    )
    assert signed_in_again.status_code == 200


@pytest.mark.parametrize("path", sorted(CREDENTIAL_FREE))
async def test_a_foreign_page_cannot_sign_a_browser_in(
    new_client: ClientFactory, path: str
) -> None:
    """Login CSRF: a sent Origin must be trusted on sign-up and sign-in; no Origin (a script)
    is fine, as the tests above show."""
    client = new_client()
    email = unique_email()
    await sign_up(client, email=email)
    signs_in = path.endswith(("/sign-in", "/sign-in/email", "/login"))
    body = {"email": email if signs_in else unique_email(), "password": PASSWORD}
    for origin in (EVIL, "null"):
        refused = await client.post(path, json=body, headers={"Origin": origin})
        assert refused.status_code == 403, refused.text
    # Nothing was created by the refused sign-ups.
    if not signs_in:
        retry = await client.post(path, json=body)
        assert retry.status_code == 200, retry.text


# The address a user typed (`serve` binds 127.0.0.1:8000 while BASE_URL says localhost).
TYPED = "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        (TYPED, True),
        ("HTTP://127.0.0.1:8000", True),  # the same origin, spelled otherwise
        (f"{TYPED}/chat?x=1", True),  # a Referer-like URL on it
        ("http://127.0.0.1:9000", False),  # another port
        ("http://localhost:8000", False),  # another host (not BASE_URL here)
        ("https://127.0.0.1:8000", False),  # another scheme
        ("null", False),
    ],
)
async def test_a_cookie_write_from_the_requests_own_origin_is_trusted(
    app_with: AppWith, origin: str, accepted: bool
) -> None:
    running = await app_with()  # BASE_URL http://testserver, no TRUSTED_ORIGINS
    browser = running.client(origin=origin, base_url=TYPED)
    signed = await browser.post(
        "/api/auth/sign-up/email",
        json={"email": unique_email(), "password": PASSWORD, "name": "Typed"},
    )
    assert signed.status_code == (200 if accepted else 403), signed.text
    if not accepted:
        return
    task = await browser.post("/api/tasks", json={"title": "same origin"})
    assert task.status_code == 201, task.text
    forged = await browser.post(
        "/api/tasks", json={"title": "forged"}, headers={"Origin": "http://127.0.0.1:9000"}
    )
    assert (forged.status_code, forged.json()["error"]["code"]) == (403, "invalid_origin")


async def test_a_referer_from_the_requests_own_origin_is_trusted(app_with: AppWith) -> None:
    running = await app_with()
    browser = running.client(origin=TYPED, base_url=TYPED)
    await sign_up(browser)
    del browser.headers["Origin"]
    by_referer = await browser.post(
        "/api/tasks", json={"title": "referer"}, headers={"Referer": f"{TYPED}/planner"}
    )
    assert by_referer.status_code == 201, by_referer.text
    foreign = await browser.post(
        "/api/tasks", json={"title": "x"}, headers={"Referer": "http://127.0.0.1:1/planner"}
    )
    assert foreign.status_code == 403


@pytest.mark.parametrize(
    ("proxies", "accepted"),
    [(["127.0.0.0/8"], True), ([], False), (["10.0.0.0/8"], False)],
)
async def test_the_scheme_comes_from_a_trusted_proxy_only(
    app_with: AppWith, proxies: list[str], accepted: bool
) -> None:
    """Behind a TLS-terminating proxy the app hears http; the proxy's X-Forwarded-Proto says
    the page was https, believed only from a TRUSTED_PROXIES address (the test client's is
    127.0.0.1)."""
    running = await app_with(trusted_proxies=proxies)
    browser = running.client(origin="https://app.internal", base_url="http://app.internal")
    browser.headers["X-Forwarded-Proto"] = "https"
    signed = await browser.post(
        "/api/auth/sign-up/email",
        json={"email": unique_email(), "password": PASSWORD, "name": "Proxied"},
    )
    assert signed.status_code == (200 if accepted else 403), signed.text


async def test_a_host_header_naming_no_origin_is_no_origin_of_ours(app_with: AppWith) -> None:
    running = await app_with()
    browser = running.client(origin="http://evil.example", base_url=TYPED)
    for host in ("evil.example/x", "user@evil.example", "evil.example?x", ""):
        signed = await browser.post(
            "/api/auth/sign-up/email",
            json={"email": unique_email(), "password": PASSWORD, "name": "Host"},
            headers={"Host": host},
        )
        assert signed.status_code == 403, (host, signed.text)
