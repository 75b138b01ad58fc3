"""Broker messages: committed changes (or a resync request) as small JSON texts.

`{"o": origin, "s": seq, "c": [[table, op, row_id, owner_id, data], ...]}` or
`{"o": origin, "s": seq, "r": 1}` (resync). A batch is split into several messages when it
exceeds the broker's limit (PostgreSQL NOTIFY takes under 8000 bytes); a change whose `data`
alone is too large travels without it, which every predicate must read as "may affect".
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from everything_app.core.changes import Change, Op

OPS: frozenset[str] = frozenset({"insert", "update", "delete"})


@dataclass(frozen=True)
class Envelope:
    origin: str
    changes: list[Change]
    resync: bool = False


def _change_json(change: Change, *, with_data: bool) -> str:
    owner = str(change.owner_id) if change.owner_id is not None else None
    item = [change.table, change.op, str(change.row_id), owner, change.data if with_data else {}]
    return json.dumps(item, separators=(",", ":"), default=str)


def encode(origin: str, seq: Iterator[int], changes: Sequence[Change], limit: int) -> list[str]:
    """Messages of at most `limit` bytes carrying `changes` in order."""
    head_size = len(_head(origin, 10**12))
    budget = limit - head_size - 4  # brackets and a comma of slack
    messages: list[str] = []
    items: list[str] = []
    size = 0
    for change in changes:
        item = _change_json(change, with_data=True)
        if len(item.encode()) > budget:
            item = _change_json(change, with_data=False)
        item_size = len(item.encode()) + 1
        if items and size + item_size > budget:
            messages.append(_wrap(origin, next(seq), items))
            items, size = [], 0
        items.append(item)
        size += item_size
    if items:
        messages.append(_wrap(origin, next(seq), items))
    return messages


def _head(origin: str, seq: int) -> str:
    return f'{{"o":{json.dumps(origin)},"s":{seq},"c":'


def _wrap(origin: str, seq: int, items: list[str]) -> str:
    return _head(origin, seq) + "[" + ",".join(items) + "]}"


def encode_resync(origin: str, seq: int) -> str:
    return json.dumps({"o": origin, "s": seq, "r": 1}, separators=(",", ":"))


def decode(text: str) -> Envelope:
    """Raises ValueError on anything that is not one of our messages."""
    try:
        raw = json.loads(text)
        origin = raw["o"]
        if not isinstance(origin, str):
            raise TypeError("origin")
        if raw.get("r"):
            return Envelope(origin=origin, changes=[], resync=True)
        return Envelope(origin=origin, changes=[_change(item) for item in raw["c"]])
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as exc:
        raise ValueError(f"not a change message: {exc}") from exc


def _change(item: Any) -> Change:
    table, op, row_id, owner_id, data = item
    if not isinstance(table, str) or op not in OPS or not isinstance(data, dict):
        raise TypeError("change")
    return Change(
        table=table,
        op=cast(Op, op),
        row_id=uuid.UUID(row_id),
        owner_id=uuid.UUID(owner_id) if owner_id is not None else None,
        data=data,
    )
