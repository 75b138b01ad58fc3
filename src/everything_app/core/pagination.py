"""Keyset pagination: an opaque cursor holding the last row's sort key and id."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from everything_app.core.errors import BadRequest

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None


def encode_cursor(sort_value: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([sort_value.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_text, id_text = json.loads(raw)
        return datetime.fromisoformat(sort_text), uuid.UUID(id_text)
    except (ValueError, TypeError) as exc:
        raise BadRequest("The cursor is not valid.", code="invalid_cursor") from exc


def keyset(
    query: Select[Any],
    sort_column: InstrumentedAttribute[datetime],
    id_column: InstrumentedAttribute[uuid.UUID],
    *,
    cursor: str | None,
    limit: int,
) -> Select[Any]:
    """Newest first; fetch one extra row to know whether another page exists."""
    if cursor:
        sort_value, row_id = decode_cursor(cursor)
        query = query.where(
            or_(sort_column < sort_value, and_(sort_column == sort_value, id_column < row_id))
        )
    return query.order_by(sort_column.desc(), id_column.desc()).limit(limit + 1)


def page_of(rows: Sequence[T], limit: int, key: Any) -> tuple[list[T], str | None]:
    """Split the limit+1 rows `keyset` fetched into a page and the next cursor."""
    items = list(rows[:limit])
    if len(rows) <= limit or not items:
        return items, None
    sort_value, row_id = key(items[-1])
    return items, encode_cursor(sort_value, row_id)
