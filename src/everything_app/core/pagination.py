"""Keyset pagination, the one way every list pages: a `Keyset` order (a timestamp column,
the id breaking ties), `keyset_page` to read one page, and an opaque cursor holding the last
row's sort key and id.

The one cursor codec of the API. A cursor is base64url (unpadded) of the JSON array
`["<ISO instant with offset>", "<uuid>"]`. Decoding is total: whatever a client sends, the
answer is a valid key (an aware instant inside the timestamp range, and a UUID) or a 400
`invalid_cursor`, never another exception, so a forged cursor can never reach the database
as a value it would choke on.
"""

from __future__ import annotations

import base64
import json
import operator
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
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


# Where a page starts: after this (sort value, id), or, with no id, strictly before (or after,
# ascending) this sort value (chat history's `before=<time>`).
After = tuple[datetime, uuid.UUID | None]


@dataclass(frozen=True)
class Keyset:
    """A list's order, the one way every list pages: a timestamp column with the id breaking
    ties, newest first unless `descending` is false. An index on (scope, sort, id) makes
    every page cost the same however long the list."""

    sort: InstrumentedAttribute[datetime]
    id: InstrumentedAttribute[uuid.UUID]
    descending: bool = True

    def select(self, query: Select[Any], *, after: After | None, limit: int) -> Select[Any]:
        """`query`'s rows after `after` in this order, one more than `limit` (the extra row
        says whether another page exists)."""
        if after is not None:
            value, row_id = after
            beyond = operator.lt if self.descending else operator.gt
            condition = beyond(self.sort, value)
            if row_id is not None:
                condition = or_(condition, and_(self.sort == value, beyond(self.id, row_id)))
            query = query.where(condition)
        if self.descending:
            query = query.order_by(self.sort.desc(), self.id.desc())
        else:
            query = query.order_by(self.sort.asc(), self.id.asc())
        return query.limit(limit + 1)

    def page(self, rows: Sequence[T], limit: int) -> tuple[list[T], str | None]:
        """Split the rows `select` fetched (ORM objects or Core rows) into a page and the
        next page's cursor."""
        items = list(rows[:limit])
        if len(rows) <= limit or not items:
            return items, None
        last = items[-1]
        return items, encode_cursor(getattr(last, self.sort.key), getattr(last, self.id.key))

    def with_new_row(
        self,
        rows: Sequence[Mapping[str, Any]],
        next_cursor: str | None,
        row: Mapping[str, Any],
        limit: int,
    ) -> tuple[list[Mapping[str, Any]], str | None] | None:
        """A first page (`rows`, `next_cursor`, as `page` made it) once `row` has been
        inserted, without reading it again: the row goes where this order puts it, the page
        keeps `limit` rows, and the cursor follows its last row. None when a sort value is
        missing. Rows are mappings of column keys to values as read (a datetime, a UUID) or as
        JSON writes them (ISO text): both sort the same, as the database sorts them."""
        key = self._key(row)
        found = [self._key(each) for each in rows]
        keys = [each for each in found if each is not None]
        if key is None or len(keys) != len(rows):
            return None
        if any(each[1] == key[1] for each in keys):
            return list(rows), next_cursor  # already there
        before = operator.gt if self.descending else operator.lt  # `row` goes before `each`
        at = next((i for i, each in enumerate(keys) if before(key, each)), len(rows))
        if at == len(rows) and next_cursor is not None:
            return list(rows), next_cursor  # beyond the page, which had more after it anyway
        placed = [*rows[:at], row, *rows[at:]]
        if len(placed) <= limit:
            return placed, next_cursor
        placed = placed[:limit]
        last = self._key(placed[-1])
        assert last is not None
        return placed, encode_cursor(*last)

    def _key(self, row: Mapping[str, Any]) -> CursorKey | None:
        value, row_id = row.get(self.sort.key), row.get(self.id.key)
        if value is None or row_id is None:
            return None
        moment = parse_instant(value) if isinstance(value, str) else as_utc(value)
        return moment, row_id if isinstance(row_id, uuid.UUID) else uuid.UUID(row_id)


async def keyset_page(
    db: AsyncSession,
    query: Select[Any],
    order: Keyset,
    *,
    limit: int,
    cursor: str | None = None,
    after: After | None = None,
) -> tuple[list[Any], str | None]:
    """One page of `query`'s entities in `order`, from a client's `cursor` (or an `after`
    key the caller resolved), and the next page's cursor."""
    if cursor is not None:
        assert after is None, "a page starts at a cursor or at a key, not both"
        after = decode_cursor(cursor)
    rows = list((await db.execute(order.select(query, after=after, limit=limit))).scalars())
    return order.page(rows, limit)
