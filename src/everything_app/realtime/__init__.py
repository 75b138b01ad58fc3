"""Live queries: Convex-style subscriptions over WebSocket (and SSE), across instances.

Features make a read live with one line in `realtime/queries.py`:

    register_query("tasks.list", list_tasks, args=TaskFilters, tables={"tasks"})
"""

from everything_app.realtime.registry import (
    QUERIES,
    LiveQuery,
    NoArgs,
    QueryRegistry,
    Viewer,
    any_change,
    owner_matches,
    register_query,
)

__all__ = [
    "QUERIES",
    "LiveQuery",
    "NoArgs",
    "QueryRegistry",
    "Viewer",
    "any_change",
    "owner_matches",
    "register_query",
]
