from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from everything_app.core.timestamps import Instant


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str = Field(description='What it is about, e.g. "reservation.reminder".')
    title: str
    body: str
    data: dict[str, Any] = Field(description="Ids and instants a client acts on (by kind).")
    created_at: Instant
    read_at: Instant | None = Field(description="When it was marked read; null while unread.")
