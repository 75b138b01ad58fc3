"""Error shapes, security headers, request ids, body limits, CORS, health probes."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from everything_app.app import create_app
from everything_app.core import heap
from everything_app.core.clientip import client_ip
from everything_app.settings import Settings
from tests.conftest import AppWith, SignedIn, asgi_client, make_settings

JSON_CSP = "default-src 'none'; frame-ancestors 'none'"


def assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == JSON_CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-request-id"]


async def test_the_collector_runs_as_a_server_wants_while_serving(app: FastAPI) -> None:
    # Full collections under load skip what start-up allocated, and the young generation is
    # collected far less often than CPython's default (see core.heap).
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == heap.SERVING_YOUNG_THRESHOLD != 700


async def test_unknown_route_is_404_in_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not found.", "details": []}
    }
    assert_security_headers(response)
    assert "strict-transport-security" not in response.headers  # plain http here


async def test_crash_is_500_with_request_id_and_no_traceback(app_with: AppWith) -> None:
    running = await app_with()

    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    running.app.add_api_route("/api/boom", boom)
    client = running.client(origin=None, raise_app_exceptions=False)
    response = await client.get("/api/boom", headers={"X-Request-ID": "req-12345"})
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "internal_error"
    assert "req-12345" in body["error"]["message"]
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert response.headers["x-request-id"] == "req-12345"
    assert_security_headers(response)


async def test_request_id_is_generated_or_echoed(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    hostile = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith junk"})
    assert hostile.headers["x-request-id"] != "bad id\twith junk"


async def test_oversized_body_is_413(signed_in: SignedIn) -> None:
    client = await signed_in()
    response = await client.post("/api/keys", json={"name": "x" * 2_000_000})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert (await client.get("/api/keys")).json()["data"] == []


async def test_validation_error_details_do_not_echo_input(signed_in: SignedIn) -> None:
    client = await signed_in()
    response = await client.post("/api/keys", json={"name": 12345678, "expires_in_days": "soon"})
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert {tuple(d["loc"]) for d in details} >= {("body", "expires_in_days")}
    assert "soon" not in response.text


async def test_cors_only_for_trusted_origins(app_with: AppWith) -> None:
    running = await app_with(trusted_origins="https://app.example.com")
    client = running.client(origin=None)
    trusted = await client.options(
        "/api/keys",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
    )
    foreign = await client.get("/healthz", headers={"Origin": "https://evil.example"})
    simple = await client.get("/healthz", headers={"Origin": "https://app.example.com"})
    assert trusted.headers["access-control-allow-origin"] == "https://app.example.com"
    assert trusted.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in foreign.headers
    assert simple.headers["access-control-allow-origin"] == "https://app.example.com"


async def test_https_deployment_gets_hsts_and_secure_cookie(app_with: AppWith) -> None:
    running = await app_with(base_url="https://api.example.com")
    client = running.client(origin=None, base_url="https://api.example.com")
    response = await client.post(
        "/api/auth/sign-up/email",
        json={"email": "s@example.com", "password": "long enough pw", "name": "S"},
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Secure-better-auth.session_token=")
    assert "Secure" in cookie.split("; ")
    assert "max-age" in response.headers["strict-transport-security"]
    session = await client.get("/api/auth/get-session")
    assert session.json()["user"]["email"] == "s@example.com"


async def test_health_probes(client: httpx.AsyncClient, app: FastAPI) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


@pytest.mark.slow  # connection attempts to a database that is not there
async def test_readyz_reports_an_unreachable_database(tmp_path: Path) -> None:
    # Port 1 on loopback: nothing listens there.
    settings = make_settings("postgresql://postgres@127.0.0.1:1/none", tmp_path)
    async with AsyncExitStack() as stack:
        # Not `start_app`: it would empty the (unreachable) database first.
        app = create_app(settings)
        await stack.enter_async_context(app.router.lifespan_context(app))
        async with asgi_client(app, origin=None) as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["database"] == "unreachable"


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("10.0.0.5", "1.2.3.4", [], "10.0.0.5"),  # no trusted proxy: header ignored
        ("10.0.0.5", "1.2.3.4", ["10.0.0.0/8"], "1.2.3.4"),
        ("9.9.9.9", "1.2.3.4", ["10.0.0.0/8"], "9.9.9.9"),  # peer is not our proxy
        ("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.7", ["10.0.0.0/8"], "1.2.3.4"),  # forged left
        ("10.0.0.5", "", ["10.0.0.0/8"], "10.0.0.5"),
    ],
)
def test_client_ip_trusts_only_configured_proxies(
    peer: str, forwarded: str, proxies: list[str], expected: str
) -> None:
    settings = Settings(trusted_proxies=",".join(proxies), secret_key="k" * 40)
    scope = {
        "type": "http",
        "client": (peer, 1234),
        "headers": [(b"x-forwarded-for", forwarded.encode())] if forwarded else [],
    }
    assert client_ip(scope, settings.trusted_proxy_networks) == expected


async def test_forwarded_ip_feeds_rate_limit_buckets(app_with: AppWith) -> None:
    """Behind a trusted proxy, two clients have two sign-up buckets, not one."""
    running = await app_with(trusted_proxies="127.0.0.0/8", rate_limit_sign_up_ip="1/minute")
    client = running.client()
    statuses = []
    for i, ip in enumerate(["1.1.1.1", "2.2.2.2", "1.1.1.1"]):
        response = await client.post(
            "/api/auth/sign-up/email",
            json={"email": f"p{i}@example.com", "password": "long enough pw", "name": "p"},
            headers={"X-Forwarded-For": ip},
        )
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]


async def test_streamed_oversized_body_is_413(signed_in: SignedIn) -> None:
    client = await signed_in()

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    response = await client.post(
        "/api/keys", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def _served_http_routes(app: FastAPI) -> set[tuple[str, str]]:
    served: set[tuple[str, str]] = set()
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for context in contexts() if contexts else [route]:
            methods = getattr(context, "methods", None)
            path = getattr(context, "path", "")
            if not methods or path == "/openapi.json" or path.startswith("/docs"):
                continue  # WebSocket routes have no methods (and no place in OpenAPI)
            if path == "/" or path.startswith("/assets/"):
                continue  # the web app's pages and files (everything_app.webapp), no API
            served |= {(path, m.lower()) for m in methods if m != "HEAD"}
    return served


async def test_every_served_route_is_in_the_openapi_schema(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    documented = {
        (path, method)
        for path, operations in response.json()["paths"].items()
        for method in operations
    }
    served = _served_http_routes(app)
    assert served
    assert served - documented == set()
    assert (await client.get("/docs")).status_code == 200
