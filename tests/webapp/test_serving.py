"""The built web app as the server serves it: `/` and client routes get index.html under the
app's CSP, hashed assets are cached for a year, and nothing of the API's answers changes
(its 404s and 405s stay JSON). Stand-in build (tests/webapp/standin.py); no database is
involved (the app is not started: static serving needs no lifespan)."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from everything_app.app import create_app
from everything_app.webapp import APP_CSP
from tests.conftest import asgi_client, make_settings
from tests.webapp.standin import INDEX_HTML, SCRIPT, SCRIPT_JS, STYLE, write_standin_build

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # a navigation
ClientFor = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def client_for(tmp_path: Path) -> AsyncIterator[ClientFor]:
    """A client of an app with the given settings; the stand-in build unless overridden."""
    build = write_standin_build(tmp_path / "build")
    async with AsyncExitStack() as stack:

        def make(**overrides: Any) -> httpx.AsyncClient:
            values = {"app_static_dir": build, **overrides}
            settings = make_settings(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path, **values)
            client = asgi_client(create_app(settings))
            stack.push_async_callback(client.aclose)
            return client

        yield make


@pytest.fixture
def client(client_for: ClientFor) -> httpx.AsyncClient:
    return client_for()


def assert_json_404(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


async def test_root_serves_index_html_under_the_app_csp(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.text == INDEX_HTML
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == APP_CSP
    assert response.headers["cache-control"] == "no-cache"
    # The global security headers still apply.
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


async def test_index_html_revalidates_with_its_etag(client: httpx.AsyncClient) -> None:
    first = await client.get("/")
    again = await client.get("/", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["cache-control"] == "no-cache"


async def test_head_answers_headers_only(client: httpx.AsyncClient) -> None:
    response = await client.head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) == len(INDEX_HTML.encode())


@pytest.mark.parametrize(
    ("path", "content_type"),
    [(SCRIPT, "text/javascript; charset=utf-8"), (STYLE, "text/css; charset=utf-8")],
)
async def test_hashed_assets_are_cached_for_a_year(
    client: httpx.AsyncClient, path: str, content_type: str
) -> None:
    response = await client.get(f"/{path}")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    if path == SCRIPT:
        assert response.text == SCRIPT_JS


@pytest.mark.parametrize(
    "path",
    [
        "/assets/missing-000000.js",
        "/assets/%2e%2e/index.html",
        "/assets/..%2findex.html",
        "/assets/%2e%2e%2f.vite/manifest.json",
        "/assets/.hidden.js",
        "/assets/a%5c..%5cindex.html",
        "/assets/",
        "/assets/x%00.js",
        "/assets//etc/passwd",
    ],
)
async def test_unknown_or_escaping_asset_paths_are_json_404s(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"Accept": HTML})
    assert_json_404(response)


@pytest.mark.parametrize("path", ["/chat", "/planner/tasks", "/reservations/2026-11-30"])
async def test_a_browser_opening_a_client_route_gets_the_app(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"Accept": HTML})
    assert response.status_code == 200
    assert response.text == INDEX_HTML
    assert response.headers["content-security-policy"] == APP_CSP
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    ("method", "path", "accept"),
    [
        ("GET", "/chat", "application/json"),  # fetch() or an SDK, not a navigation
        ("GET", "/chat", "*/*"),
        ("GET", "/chat", "text/html;q=0"),
        ("POST", "/chat", HTML),  # not a navigation a client route could answer
        ("DELETE", "/chat", HTML),
        ("GET", "/api/nothing-here", HTML),  # the API's namespace is never the app's
        ("GET", "/api", HTML),
        ("GET", "/healthz/more", HTML),
        ("GET", "/docs/nothing", HTML),
    ],
)
async def test_everything_else_keeps_the_json_404(
    client: httpx.AsyncClient, method: str, path: str, accept: str
) -> None:
    response = await client.request(method, path, headers={"Accept": accept})
    assert_json_404(response)


async def test_the_api_answers_as_before(client: httpx.AsyncClient) -> None:
    # A wrong method on an API path stays a 405, and /v1 keeps OpenAI's error shape.
    wrong_method = await client.put("/api/keys", headers={"Accept": HTML})
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/json"
    openai = await client.get("/v1/nothing", headers={"Accept": HTML})
    assert openai.status_code == 404
    assert "error" in openai.json()
    docs = await client.get("/docs", headers={"Accept": HTML})
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text


async def test_app_enabled_false_serves_the_api_only(client_for: ClientFor) -> None:
    client = client_for(app_enabled=False)
    for path in ("/", "/chat", f"/{SCRIPT}"):
        assert_json_404(await client.get(path, headers={"Accept": HTML}))
    assert (await client.get("/healthz")).status_code == 200


async def test_without_a_build_the_root_says_how_to_build_it(
    client_for: ClientFor, tmp_path: Path
) -> None:
    client = client_for(app_static_dir=tmp_path / "never-built")
    for path in ("/", "/chat"):
        response = await client.get(path, headers={"Accept": HTML})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["content-security-policy"] == APP_CSP
        page = response.text
        assert "npm run build" in page
        assert "bash scripts/serve.sh" in page
        assert 'href="/docs"' in page
        assert "<script" not in page
    assert_json_404(await client.get(f"/{SCRIPT}"))


async def test_a_gzip_copy_is_sent_to_clients_that_accept_gzip(
    client_for: ClientFor, tmp_path: Path
) -> None:
    build = write_standin_build(tmp_path / "gz-build")
    (build / f"{SCRIPT}.gz").write_bytes(gzip.compress(SCRIPT_JS.encode()))
    client = client_for(app_static_dir=build)
    encoded = await client.get(f"/{SCRIPT}", headers={"Accept-Encoding": "gzip, br"})
    assert encoded.headers["content-encoding"] == "gzip"
    assert encoded.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "Accept-Encoding" in encoded.headers["vary"]
    assert encoded.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert encoded.text == SCRIPT_JS  # httpx decodes it
    for refusal in ("identity", "gzip;q=0, identity", "br"):
        plain = await client.get(f"/{SCRIPT}", headers={"Accept-Encoding": refusal})
        assert "content-encoding" not in plain.headers
        assert "Accept-Encoding" in plain.headers["vary"]
        assert plain.content == SCRIPT_JS.encode()
    # A file without a gzip copy is sent as it is, with no Vary.
    style = await client.get(f"/{STYLE}", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in style.headers
    assert "Accept-Encoding" not in style.headers.get("vary", "")
