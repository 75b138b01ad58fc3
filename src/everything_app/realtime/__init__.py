"""Live queries: Convex-style subscriptions over WebSocket (and SSE), across instances.

Features make a read live in their `register(registry)` step (core.features):

    registry[QueryRegistry].register("tasks.list", list_tasks, args=TaskFilters, tables={"tasks"})

Other features import only the names below (see `core.exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.realtime.registration import feature
    from everything_app.realtime.registry import (
        Folder,
        LiveQuery,
        NoArgs,
        PageArgs,
        QueryRegistry,
        Runner,
        Viewer,
        any_change,
        owner_matches,
    )
    from everything_app.realtime.setup import Realtime, start_realtime

__all__ = [
    "Folder",
    "LiveQuery",
    "NoArgs",
    "PageArgs",
    "QueryRegistry",
    "Realtime",
    "Runner",
    "Viewer",
    "any_change",
    "feature",
    "owner_matches",
    "start_realtime",
]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__,
        {
            "feature": "registration",
            "Folder": "registry",
            "LiveQuery": "registry",
            "NoArgs": "registry",
            "PageArgs": "registry",
            "QueryRegistry": "registry",
            "Runner": "registry",
            "Viewer": "registry",
            "any_change": "registry",
            "owner_matches": "registry",
            "Realtime": "setup",
            "start_realtime": "setup",
        },
    )
