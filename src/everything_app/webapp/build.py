"""The built web app on disk: where it is, whether it is there, and which file a URL names.

`npm run build` in web/ (Vite) writes `index.html`, content-hashed files under `assets/` and
`.vite/manifest.json` into this package's `static/` directory, which ships in the wheel
(pyproject package-data); the build scripts add a gzip copy beside each text asset, served
to clients that accept gzip (the app compresses nothing on the fly). The directory is read
on every request, not once at start, so a rebuild is served without a restart.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path

PACKAGED_STATIC = Path(__file__).resolve().parent / "static"
INDEX = "index.html"
ASSETS = "assets"

# Fixed types for what Vite emits: the system's mime.types differs between machines (and
# a script served under a wrong type is refused by the browser under `nosniff`).
_CONTENT_TYPES: dict[str, str] = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".txt": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
}


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _CONTENT_TYPES:
        return _CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


@dataclass(frozen=True)
class Build:
    """One build directory (the packaged one, or APP_STATIC_DIR)."""

    root: Path

    @property
    def index(self) -> Path:
        return self.root / INDEX

    def is_built(self) -> bool:
        return self.index.is_file()

    def asset(self, name: str) -> Path | None:
        """The file under `assets/` that the URL path `name` names, or None: nothing outside
        that directory is reachable (no `..`, no hidden files, no absolute or odd paths)."""
        parts = name.split("/")
        if any(not part or part.startswith(".") or "\\" in part or "\0" in part for part in parts):
            return None
        assets = (self.root / ASSETS).resolve()
        candidate = assets.joinpath(*parts).resolve()
        if not candidate.is_relative_to(assets) or not candidate.is_file():
            return None
        return candidate

    @staticmethod
    def gzipped(path: Path) -> Path | None:
        """The gzip copy that scripts/build-web.sh (and the Docker build) writes beside a
        text asset (`app-1a2b.js.gz`), if there is one."""
        sibling = path.with_name(path.name + ".gz")
        return sibling if sibling.is_file() else None
