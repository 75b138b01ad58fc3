"""`/api/notifications`: a user's notifications, and marking one read."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from everything_app.auth import CurrentUser, require_user
from everything_app.core.clock import Now
from everything_app.core.db import SessionDep
from everything_app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from everything_app.core.params import StrictQuery
from everything_app.notifications import service
from everything_app.notifications.schemas import NotificationOut

router = APIRouter(
    prefix="/api/notifications",
    tags=["notifications"],
    dependencies=[Depends(require_user), StrictQuery],
)


@router.get("", response_model=Page[NotificationOut])
async def list_notifications(
    user: CurrentUser,
    db: SessionDep,
    unread: Annotated[
        bool | None, Query(description="true: only unread; false: only read.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[NotificationOut]:
    """Your notifications, newest first (live: `notifications.list`)."""
    rows, next_cursor = await service.list_notifications(
        db, user.id, cursor=cursor, limit=limit, unread=unread
    )
    return Page[NotificationOut](
        data=[NotificationOut.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.post(
    "/{notification_id}/read",
    response_model=NotificationOut,
    responses={404: {"description": "No such notification among yours."}},
)
async def mark_read(
    notification_id: uuid.UUID, user: CurrentUser, db: SessionDep, now: Now
) -> NotificationOut:
    """Mark one of your notifications read. Marking it again keeps the first time."""
    row = await service.mark_read(db, user.id, notification_id, now=now)
    return NotificationOut.model_validate(row)
