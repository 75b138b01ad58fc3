"""Notifications: what the app tells a user (a reminder, their turn in a queue), kept as
rows they own, listed at `/api/notifications`, live as `notifications.list`.

Features send one with `notify(db, user_id, kind, title, body, data, key=...)` inside their
unit of work: the row lands with their write, and the change event that brings it to the
user's open pages goes out after the commit (realtime). A `key` makes sending idempotent
(a redelivered job sends nothing twice). Mail, once it exists, plugs in at one place:
`service.deliver` (see there).

Other features import only the names below (see `core.exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.notifications.models import Notification
    from everything_app.notifications.registration import feature
    from everything_app.notifications.service import notify

__all__ = ["Notification", "feature", "notify"]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__,
        {"Notification": "models", "feature": "registration", "notify": "service"},
    )
