"""What `/` answers: the app's index.html under the app's CSP, or, when the app has not been
built, a small server-rendered page (no script) saying how to build it."""

from __future__ import annotations

# The app's own code and styles only (no inline script or style, no CDN: it works offline).
# `data:`/`blob:` images: icons inlined by the bundler, and charts exported as images.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# index.html names the hashed assets of the build it belongs to: the browser must ask again
# every time (a 304 when unchanged), or it would keep loading a previous build's files.
INDEX_CACHE = "no-cache"
# Hashed names change with their content: a name once served never changes meaning.
ASSET_CACHE = "public, max-age=31536000, immutable"

NOT_BUILT_PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Everything-App: the web app is not built</title>
</head>
<body>
<main>
<h1>The web app is not built</h1>
<p>This server runs the API; the web app it serves at <code>/</code> has not been built
into this installation.</p>
<p>Build it from the checkout's root with <code>cd web &amp;&amp; npm ci &amp;&amp;
npm run build</code>, or run <code>bash scripts/serve.sh</code>, which builds it when npm is
installed. Set <code>APP_ENABLED=false</code> to serve the API only.</p>
<p>The API's documentation: <a href="/docs">/docs</a>.</p>
</main>
</body>
</html>
"""
