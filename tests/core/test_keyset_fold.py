"""`Keyset.with_new_row`: a first page with one row inserted, made from the page alone, is
the page the order gives from all the rows (property-based, against a sort done from
scratch), whether rows hold read values or their JSON text."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from everything_app.core.pagination import Keyset
from everything_app.planner.models import Task

# Few distinct times, so that ties (broken by the id) are common.
moments = st.integers(min_value=0, max_value=5).map(
    lambda n: datetime(2030, 1, 1, tzinfo=UTC) + timedelta(microseconds=n)
)
rows = st.builds(lambda moment, row_id: (moment, row_id), moments, st.uuids())


def _as_read(key: tuple[datetime, uuid.UUID]) -> dict[str, Any]:
    return {"created_at": key[0], "id": key[1]}


def _as_json(key: tuple[datetime, uuid.UUID]) -> dict[str, Any]:
    return {"created_at": key[0].isoformat().replace("+00:00", "Z"), "id": str(key[1])}


def _first_page(
    order: Keyset, keys: list[tuple[datetime, uuid.UUID]], limit: int
) -> tuple[list[tuple[datetime, uuid.UUID]], str | None]:
    ordered = sorted(keys, reverse=order.descending)
    page, cursor = order.page([SimpleNamespace(**_as_read(key)) for key in ordered], limit)
    return [(row.created_at, row.id) for row in page], cursor


def _keys(page: list[Any]) -> list[tuple[datetime, uuid.UUID]]:
    out = []
    for row in page:
        moment, row_id = row["created_at"], row["id"]
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        out.append((moment, uuid.UUID(str(row_id))))
    return out


@settings(max_examples=300, deadline=None)
@given(
    existing=st.lists(rows, max_size=8, unique_by=lambda key: key[1]),
    new=rows,
    limit=st.integers(min_value=1, max_value=5),
    descending=st.booleans(),
    new_as_json=st.booleans(),
)
def test_a_new_row_lands_where_a_fresh_read_puts_it(
    existing: list[tuple[datetime, uuid.UUID]],
    new: tuple[datetime, uuid.UUID],
    limit: int,
    descending: bool,
    new_as_json: bool,
) -> None:
    order = Keyset(Task.created_at, Task.id, descending)
    page, cursor = _first_page(order, existing, limit)
    row = _as_json(new) if new_as_json else _as_read(new)

    placed = order.with_new_row([_as_read(key) for key in page], cursor, row, limit)

    assert placed is not None
    everything = existing if new[1] in {key[1] for key in existing} else [*existing, new]
    expected_page, expected_cursor = _first_page(order, everything, limit)
    assert (_keys(placed[0]), placed[1]) == (expected_page, expected_cursor)


def test_a_row_without_its_sort_value_cannot_be_placed() -> None:
    order = Keyset(Task.created_at, Task.id)
    row = {"created_at": None, "id": str(uuid.uuid4())}
    assert order.with_new_row([], None, row, 10) is None
