"""Serving the built app: `/assets/*` (hashed, cached for a year), `/` and the app's client
routes (index.html, revalidated every time, under the app's CSP).

A client route (`/chat`, `/planner/tasks`…) is a URL only the app in the browser knows, so
a browser that opens or reloads it must get index.html. The fallback that does this runs
only where no route of the API matched (it is the router's `default`, after the routes, the
405 check and the trailing-slash redirect), and only for what a browser navigation looks
like: GET or HEAD, outside the API's paths, asking for HTML. Everything else keeps the JSON
404, so a mistyped API URL is never answered with a web page.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from everything_app.core.errors import NotFound
from everything_app.core.routers import PUBLIC
from everything_app.webapp.build import Build, content_type
from everything_app.webapp.pages import (
    APP_CSP,
    ASSET_CACHE,
    INDEX_CACHE,
    NOT_BUILT_PAGE,
)

ASSETS_PATH = "/assets"
# First path segments that belong to the server, never to the app's client routes.
SERVER_SEGMENTS = frozenset(
    {"api", "v1", "docs", "openapi.json", "healthz", "readyz", "metrics", "assets"}
)
NAVIGATION_METHODS = frozenset({"GET", "HEAD"})


def _listed(header: str, wanted: frozenset[str]) -> bool:
    """Whether a negotiation header (Accept, Accept-Encoding) lists one of `wanted` with a
    q above 0."""
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if name.lower() not in wanted:
            continue
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def accepts_html(accept: str) -> bool:
    """Whether Accept lists text/html: what a browser sends when it navigates, and what
    `fetch()` or an SDK does not."""
    return _listed(accept, frozenset({"text/html"}))


def accepts_gzip(accept_encoding: str) -> bool:
    return _listed(accept_encoding, frozenset({"gzip", "*"}))


def is_navigation(method: str, path: str, accept: str) -> bool:
    """A browser opening one of the app's client routes (see the module's docstring)."""
    first = path.lstrip("/").split("/", 1)[0]
    return method in NAVIGATION_METHODS and first not in SERVER_SEGMENTS and accepts_html(accept)


def _file(
    request: Request,
    path: Path,
    media_type: str,
    cache: str,
    csp: str | None,
    extra: dict[str, str] | None = None,
) -> Response:
    headers = {"Cache-Control": cache, **(extra or {})}
    if csp is not None:
        headers["Content-Security-Policy"] = csp
    response = FileResponse(path, media_type=media_type, headers=headers, stat_result=os.stat(path))
    etag = response.headers.get("etag")
    if etag is not None and etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={**headers, "ETag": etag})
    return response


def app_page(build: Build, request: Request) -> Response:
    """index.html, or the page saying the app is not built."""
    if not build.is_built():
        return HTMLResponse(
            NOT_BUILT_PAGE,
            headers={"Cache-Control": INDEX_CACHE, "Content-Security-Policy": APP_CSP},
        )
    return _file(request, build.index, "text/html; charset=utf-8", INDEX_CACHE, APP_CSP)


def webapp_router(build: Build) -> APIRouter:
    router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])

    @router.api_route("/", methods=["GET", "HEAD"])
    async def index(request: Request) -> Response:
        return app_page(build, request)

    @router.api_route(ASSETS_PATH + "/{name:path}", methods=["GET", "HEAD"])
    async def asset(request: Request, name: str) -> Response:
        path = build.asset(name)
        if path is None:
            raise NotFound("No such asset.")
        gzipped = build.gzipped(path)
        if gzipped is None:
            return _file(request, path, content_type(path), ASSET_CACHE, None)
        # Caches keep one copy per encoding (Vary), and the ETag differs between the two.
        vary = {"Vary": "Accept-Encoding"}
        if accepts_gzip(request.headers.get("accept-encoding", "")):
            encoded = {**vary, "Content-Encoding": "gzip"}
            return _file(request, gzipped, content_type(path), ASSET_CACHE, None, encoded)
        return _file(request, path, content_type(path), ASSET_CACHE, None, vary)

    return router


def client_route_fallback(build: Build, not_found: ASGIApp) -> ASGIApp:
    """The router's `default` (what runs when no route matched): index.html for a browser
    navigating to a client route, else `not_found` (the JSON 404)."""

    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            if is_navigation(request.method, request.url.path, request.headers.get("accept", "")):
                await app_page(build, request)(scope, receive, send)
                return
        await not_found(scope, receive, send)

    return fallback


def mount(app: FastAPI, build: Build) -> None:
    """The app's routes, and its fallback: after every route of the API, whatever order the
    features were included in."""
    app.include_router(webapp_router(build))
    app.router.default = client_route_fallback(build, app.router.default)
