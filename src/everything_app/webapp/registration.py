"""The webapp feature: nothing to offer other features. Its routes depend on settings
(APP_ENABLED, APP_STATIC_DIR) and must come after every other route, so `create_app` mounts
them last through `mount_webapp`."""

from __future__ import annotations

from fastapi import FastAPI

from everything_app.core.features import Feature
from everything_app.settings import Settings
from everything_app.webapp.build import PACKAGED_STATIC, Build
from everything_app.webapp.routes import mount

feature = Feature("webapp")


def mount_webapp(app: FastAPI, settings: Settings) -> None:
    """Serve the web app at `/`, unless APP_ENABLED is false (API-only deployments)."""
    if not settings.app_enabled:
        return
    mount(app, Build(settings.app_static_dir or PACKAGED_STATIC))
