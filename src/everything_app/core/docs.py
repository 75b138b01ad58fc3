"""`/docs`: Swagger UI served from our own origin, under a CSP that allows only our assets.

FastAPI's default page loads Swagger UI from an unpinned CDN tag (no Subresource Integrity)
and starts it with an inline script, so it needs the internet and runs third-party code on
the API's origin. Here the assets come from a pinned PyPI package (`fastapi-offline`, pinned
in requirements.lock; Swagger UI 5 inside), the page is our own HTML with no inline script
(the start-up code is `/docs/assets/swagger-init.js`), and the CSP allows scripts, styles,
images and fetches from `'self'` only. ReDoc is not offered: its bundle compiles schemas
with `new Function` and starts a worker from a `blob:` URL, which would need a weaker CSP.
`DOCS_ENABLED=false` removes all of it; `/openapi.json` stays (see `create_app`).
"""

from __future__ import annotations

import html
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from everything_app.core.errors import NotFound
from everything_app.core.routers import PUBLIC

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
_PACKAGE_STATIC = Path(fastapi_offline.__file__).resolve().parent / "static"

# Every file the page may load, by URL name: (file in the pinned package, content type).
_PACKAGED: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger-ui.css", "text/css; charset=utf-8"),
    "favicon.png": ("favicon.png", "image/png"),
}
INIT_SCRIPT = "swagger-init.js"

# `data:` images: swagger-ui.css draws its icons as inline SVG data URLs.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

# The start-up code FastAPI would inline, as a file; the schema URL is read from the page.
_INIT_JS = """\
"use strict";
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
"""

_PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API docs</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/{init}"></script>
</body>
</html>
"""

# The assets change only with the pinned package: let browsers keep them for a day.
_ASSET_CACHE = "public, max-age=86400"


def docs_router(title: str, openapi_url: str) -> APIRouter:
    router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])
    page = _PAGE.format(
        title=html.escape(title),
        assets=ASSETS_PATH,
        openapi_url=html.escape(openapi_url),
        init=INIT_SCRIPT,
    )

    @router.get(DOCS_PATH)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})

    @router.get(ASSETS_PATH + "/{name}")
    async def asset(name: str) -> Response:
        if name == INIT_SCRIPT:
            return Response(
                _INIT_JS,
                media_type="text/javascript; charset=utf-8",
                headers={"Cache-Control": _ASSET_CACHE},
            )
        if name not in _PACKAGED:  # a fixed list: no path from the URL reaches the disk
            raise NotFound("No such documentation asset.")
        file_name, content_type = _PACKAGED[name]
        return FileResponse(
            _PACKAGE_STATIC / file_name,
            media_type=content_type,
            headers={"Cache-Control": _ASSET_CACHE},
        )

    return router
