"""The web app served at `/` (everything_app.webapp)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings


class WebAppSettings(BaseSettings):
    # The React app at `/` and its assets at `/assets/`; off for API-only deployments.
    app_enabled: bool = True
    # The built app (index.html, assets/, .vite/manifest.json); None: the copy inside the
    # package, where `npm run build` in web/ writes it.
    app_static_dir: Path | None = None
