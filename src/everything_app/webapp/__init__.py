"""The web app (React, built by Vite from web/) served at `/`: its hashed assets under
`/assets/`, index.html at `/` and at the app's client routes, under a strict CSP, on the
API's own origin (so the session cookie and the CSRF check need no configuration).

Other features import only the names below (see `core.exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.webapp.build import PACKAGED_STATIC, Build
    from everything_app.webapp.pages import APP_CSP
    from everything_app.webapp.registration import feature, mount_webapp

__all__ = ["APP_CSP", "PACKAGED_STATIC", "Build", "feature", "mount_webapp"]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__,
        {
            "APP_CSP": "pages",
            "PACKAGED_STATIC": "build",
            "Build": "build",
            "feature": "registration",
            "mount_webapp": "registration",
        },
    )
