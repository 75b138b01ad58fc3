"""core.fastjson writes what pydantic would: the same bytes as pydantic-core's `to_json` for
the values rows and events hold, so switching encoders changed no response."""

from __future__ import annotations

import json
import uuid
from datetime import UTC
from decimal import Decimal
from typing import Any

import asyncpg
import pydantic_core
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from everything_app.core import fastjson
from everything_app.core.sse import json_bytes
from tests.conftest import Backends

# Strings as they come from the database or a model: any Unicode text without surrogates.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
# Keys as pydantic writes them: text, and the ints, UUIDs and dates some results are keyed by.
KEYS = TEXT | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.uuids() | st.dates()
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
    | st.uuids()
    | st.datetimes(timezones=st.just(UTC))
    | st.dates()
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(value=VALUES)
def test_the_same_bytes_as_pydantic(value: Any) -> None:
    assert fastjson.dumps(value) == pydantic_core.to_json(value)


@pytest.fixture
def pg_url(backends: Backends) -> str:
    return backends.postgresql()


async def test_a_drivers_uuid_subclass_is_written_as_a_uuid(pg_url: str) -> None:
    """asyncpg returns UUIDs of its own class (a subclass of uuid.UUID)."""
    connection = await asyncpg.connect(pg_url)
    try:
        row = dict(await connection.fetchrow("SELECT gen_random_uuid() AS id, now() AS at"))
    finally:
        await connection.close()
    assert type(row["id"]) is not uuid.UUID
    assert fastjson.dumps(row) == pydantic_core.to_json(row)
    assert json.loads(fastjson.dumps(row))["id"] == str(uuid.UUID(str(row["id"])))


class Row(BaseModel):
    amount: Decimal
    note: str


def test_a_model_is_written_as_its_json_mode_dump() -> None:
    row = Row(amount=Decimal("12.50"), note="café")
    assert json.loads(fastjson.dumps({"data": [row]})) == {
        "data": [{"amount": "12.50", "note": "café"}]
    }


def test_a_lone_surrogate_is_refused_and_stream_events_escape_it() -> None:
    with pytest.raises(TypeError):
        fastjson.dumps({"text": "\ud800"})
    assert json.loads(json_bytes({"text": "\ud800"})) == {"text": "\ud800"}
