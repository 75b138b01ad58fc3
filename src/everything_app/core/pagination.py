"""Keyset pagination: an opaque cursor holding the last row's sort key and id.

The one cursor codec of the API. A cursor is base64url (unpadded) of the JSON array
`["<ISO instant with offset>", "<uuid>"]`. Decoding is total: whatever a client sends, the
answer is a valid key (an aware instant inside the timestamp range, and a UUID) or a 400
`invalid_cursor`, never another exception, so a forged cursor can never reach the database
as a value it would choke on.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from everything_app.core.errors import BadRequest
from everything_app.core.timestamps import as_utc, parse_instant

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# A real cursor is about 100 characters; anything much longer is not one of ours.
MAX_CURSOR_LENGTH = 256
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")

CursorKey = tuple[datetime, uuid.UUID]


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None


def encode_cursor(sort_value: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([as_utc(sort_value).isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_cursor() -> BadRequest:
    return BadRequest(
        "The cursor is not valid: pass back the `next_cursor` of the previous page.",
        code="invalid_cursor",
    )


def decode_cursor(cursor: str) -> CursorKey:
    """The key a cursor holds, or BadRequest `invalid_cursor`."""
    try:
        return _decode(cursor)
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:
        raise invalid_cursor() from exc


def _decode(cursor: str) -> CursorKey:
    if len(cursor) > MAX_CURSOR_LENGTH or not _BASE64URL.fullmatch(cursor):
        raise ValueError("not a cursor")
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    value = json.loads(raw)  # bytes that are not UTF-8 JSON: a ValueError
    if not (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], str)
        and len(value[1]) == 36  # only the hyphenated form encode_cursor writes
    ):
        raise ValueError("not a cursor")
    return parse_instant(value[0]), uuid.UUID(value[1])


def keyset(
    query: Select[Any],
    sort_column: InstrumentedAttribute[datetime],
    id_column: InstrumentedAttribute[uuid.UUID],
    *,
    cursor: str | None,
    limit: int,
    descending: bool = True,
) -> Select[Any]:
    """Rows after the cursor in (sort, id) order, newest first unless `descending` is false;
    fetch one extra row to know whether another page exists."""
    if cursor:
        sort_value, row_id = decode_cursor(cursor)
        if descending:
            after = or_(
                sort_column < sort_value, and_(sort_column == sort_value, id_column < row_id)
            )
        else:
            after = or_(
                sort_column > sort_value, and_(sort_column == sort_value, id_column > row_id)
            )
        query = query.where(after)
    if descending:
        query = query.order_by(sort_column.desc(), id_column.desc())
    else:
        query = query.order_by(sort_column.asc(), id_column.asc())
    return query.limit(limit + 1)


def page_of(rows: Sequence[T], limit: int, key: Any) -> tuple[list[T], str | None]:
    """Split the limit+1 rows `keyset` fetched into a page and the next cursor."""
    items = list(rows[:limit])
    if len(rows) <= limit or not items:
        return items, None
    sort_value, row_id = key(items[-1])
    return items, encode_cursor(sort_value, row_id)
