"""What changed between two results of a live query, as a list of operations.

A result is a JSON object; its lists of rows (objects with a unique `id`: `data`, `entries`)
change row by row, anything else is replaced whole:

- `{"op":"set","key":k,"value":v}`: the field `k` becomes `v`;
- `{"op":"delete","key":k,"id":i}`: the row `i` leaves the list `k`;
- `{"op":"update","key":k,"id":i,"row":r}`: the row `i` becomes `r`, in place;
- `{"op":"insert","key":k,"index":n,"row":r}`: `r` is inserted at position `n`.

Applied in order they turn the old result into the new one (`apply` is the reference). Rows
that keep their relative order stay; a row that moved is deleted and inserted again, so the
operations are deletes, then updates, then inserts by ascending position.
"""

from __future__ import annotations

import copy
from typing import Any

Op = dict[str, Any]


def _rows(value: Any) -> dict[Any, int] | None:
    """The list's positions by id when it is a list of rows with unique ids, else None."""
    if not isinstance(value, list):
        return None
    positions: dict[Any, int] = {}
    for index, row in enumerate(value):
        if not isinstance(row, dict):
            return None
        row_id = row.get("id")
        if not isinstance(row_id, str | int) or isinstance(row_id, bool) or row_id in positions:
            return None
        positions[row_id] = index
    return positions


def _stable(order: list[int]) -> set[int]:
    """The longest increasing subsequence of `order` (old positions in new order): the rows
    that can stay where they are."""
    tails: list[int] = []  # tails[k]: index in `order` ending the best run of length k + 1
    previous: list[int] = [-1] * len(order)
    for i, value in enumerate(order):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if order[tails[mid]] < value:
                lo = mid + 1
            else:
                hi = mid
        previous[i] = tails[lo - 1] if lo else -1
        if lo == len(tails):
            tails.append(i)
        else:
            tails[lo] = i
    kept: set[int] = set()
    i = tails[-1] if tails else -1
    while i >= 0:
        kept.add(order[i])
        i = previous[i]
    return kept


def _list_ops(key: str, old: list[Any], new: list[Any], old_pos: dict[Any, int]) -> list[Op]:
    new_ids = [row["id"] for row in new]
    common = [old_pos[i] for i in new_ids if i in old_pos]
    stay = _stable(common)  # old positions of rows that stay
    deletes: list[Op] = []
    for index, row in enumerate(old):
        if index not in stay:
            deletes.append({"op": "delete", "key": key, "id": row["id"]})
    updates: list[Op] = []
    inserts: list[Op] = []
    for index, row in enumerate(new):
        at = old_pos.get(row["id"])
        if at is not None and at in stay:
            if old[at] != row:
                updates.append({"op": "update", "key": key, "id": row["id"], "row": row})
        else:
            inserts.append({"op": "insert", "key": key, "index": index, "row": row})
    return deletes + updates + inserts


def diff(old: Any, new: Any) -> list[Op] | None:
    """Operations turning `old` into `new` (JSON values), or None when they are not both
    objects with the same fields (send the whole result instead)."""
    if not isinstance(old, dict) or not isinstance(new, dict) or old.keys() != new.keys():
        return None
    ops: list[Op] = []
    for key, value in new.items():
        before = old[key]
        if before == value:
            continue
        old_pos = _rows(before)
        if old_pos is not None and _rows(value) is not None:
            ops += _list_ops(key, before, value, old_pos)
        else:
            ops.append({"op": "set", "key": key, "value": value})
    return ops


def apply(result: Any, ops: list[Op]) -> Any:
    """`result` with `ops` applied (a new value; `result` is left as it was)."""
    out = copy.deepcopy(result)
    for op in ops:
        key = op["key"]
        if op["op"] == "set":
            out[key] = copy.deepcopy(op["value"])
            continue
        rows: list[Any] = out[key]
        if op["op"] == "insert":
            rows.insert(op["index"], copy.deepcopy(op["row"]))
            continue
        index = next(i for i, row in enumerate(rows) if row["id"] == op["id"])
        if op["op"] == "delete":
            del rows[index]
        else:
            rows[index] = copy.deepcopy(op["row"])
    return out
