"""The notifications' live query: `GET /api/notifications`, live."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core.pagination import Page
from everything_app.notifications import service
from everything_app.notifications.schemas import NotificationOut
from everything_app.realtime import PageArgs, QueryRegistry, Viewer


class NotificationArgs(PageArgs):
    unread: bool | None = None


async def notifications_list(
    db: AsyncSession, viewer: Viewer, args: NotificationArgs
) -> Page[NotificationOut]:
    """`GET /api/notifications`, live: the caller's notifications, newest first. A new one
    is seen the moment it is stored."""
    rows, cursor = await service.list_notifications(
        db, viewer.user_id, cursor=args.cursor, limit=args.limit, unread=args.unread
    )
    return Page[NotificationOut](
        data=[NotificationOut.model_validate(r) for r in rows], next_cursor=cursor
    )


def register_queries(queries: QueryRegistry) -> None:
    queries.register(
        "notifications.list", notifications_list, args=NotificationArgs, tables={service.TABLE}
    )
