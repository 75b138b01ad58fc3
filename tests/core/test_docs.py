"""/docs: Swagger UI from our own origin under a strict CSP, or nothing (DOCS_ENABLED)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.conftest import AppWith

CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def _csp(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


async def test_docs_use_only_our_assets_under_a_strict_csp(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = _csp(page.headers["content-security-policy"])
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no CDN
    for values in csp.values():
        assert not any(v.startswith(("http:", "https:", "'unsafe-")) for v in values), csp
    html = page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script"
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"
    urls = re.findall(r"""(?:src|href)="([^"]+)\"""", html)
    assert any(url.endswith(".js") for url in urls)
    for url in urls:
        assert url.startswith("/"), url  # same origin
        assert not url.startswith("//"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        expected = CONTENT_TYPES[Path(url).suffix]
        assert asset.headers["content-type"].startswith(expected), (url, asset.headers)
        assert asset.content
    openapi_url = re.search(r'data-openapi-url="([^"]+)"', html)
    assert openapi_url is not None
    schema = await client.get(openapi_url.group(1))
    assert schema.status_code == 200
    assert schema.json()["openapi"]
    # Only the listed assets exist; nothing else is read from disk.
    for name in ("redoc.standalone.js", "..%2F__init__.py", "nothing.js"):
        assert (await client.get(f"/docs/assets/{name}")).status_code == 404
    assert (await client.get("/redoc")).status_code == 404
    # Everything else keeps the data-only policy.
    api = await client.get("/healthz")
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


async def test_docs_can_be_turned_off(app_with: AppWith) -> None:
    client = (await app_with(docs_enabled=False)).client(origin=None)
    for path in ("/docs", "/redoc", "/docs/assets/swagger-ui-bundle.js"):
        assert (await client.get(path)).status_code == 404, path
    # The schema is data, not a page: it stays (see create_app).
    assert (await client.get("/openapi.json")).status_code == 200


def test_docs_enabled_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from everything_app.settings import Settings

    monkeypatch.setenv("DOCS_ENABLED", "false")
    assert Settings().docs_enabled is False
    monkeypatch.delenv("DOCS_ENABLED")
    assert Settings().docs_enabled is True
