"""Property tests of the input mechanisms (Hypothesis): the cursor codec, the timestamp type
and the JSON depth scanner. No database: these are pure functions."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from everything_app.core.errors import BadRequest
from everything_app.core.pagination import decode_cursor, encode_cursor
from everything_app.core.timestamps import (
    MAX_INSTANT,
    MIN_INSTANT,
    Instant,
    Timestamp,
    UtcTimestamp,
    format_instant,
)
from everything_app.core.validation import JsonDepth, _nul_at, too_deep

offsets = st.integers(min_value=-(14 * 60), max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
instants = st.datetimes(
    min_value=MIN_INSTANT.replace(tzinfo=None), max_value=MAX_INSTANT.replace(tzinfo=None)
).map(lambda naive: naive.replace(tzinfo=UTC))
any_aware = st.datetimes(timezones=st.just(UTC) | offsets)


@given(instants, offsets, st.uuids())
def test_every_valid_key_round_trips(moment: datetime, offset: timezone, row: uuid.UUID) -> None:
    assert decode_cursor(encode_cursor(moment.astimezone(offset), row)) == (moment, row)


def _decodes_or_refuses(cursor: str) -> None:
    refused: BadRequest | None = None
    try:
        moment, row = decode_cursor(cursor)
    except BadRequest as exc:
        refused = exc
    if refused is not None:
        assert (refused.code, refused.status_code) == ("invalid_cursor", 400)
        return
    assert moment.tzinfo is not None
    assert MIN_INSTANT <= moment <= MAX_INSTANT
    assert isinstance(row, uuid.UUID)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)
near_cursors = st.tuples(
    st.one_of(
        any_aware.map(datetime.isoformat), st.datetimes().map(datetime.isoformat), json_values
    ),
    st.one_of(st.uuids().map(str), st.text(max_size=40), json_values),
).map(lambda pair: _b64(json.dumps(list(pair)).encode()))


@given(st.text(max_size=300))
def test_any_text_is_a_key_or_invalid_cursor(cursor: str) -> None:
    _decodes_or_refuses(cursor)


@given(st.binary(max_size=200).map(_b64))
def test_any_bytes_are_a_key_or_invalid_cursor(cursor: str) -> None:
    _decodes_or_refuses(cursor)


@given(json_values.map(lambda value: _b64(json.dumps(value).encode())))
def test_any_json_is_a_key_or_invalid_cursor(cursor: str) -> None:
    _decodes_or_refuses(cursor)


@given(near_cursors)
def test_near_misses_are_a_key_or_invalid_cursor(cursor: str) -> None:
    _decodes_or_refuses(cursor)


class Times(BaseModel):
    at: Timestamp | None = None
    utc: UtcTimestamp | None = None


def _in_range_or_refused(field: str, value: Any) -> None:
    try:
        parsed = getattr(Times.model_validate({field: value}), field)
    except ValidationError:
        return
    assert parsed.tzinfo is UTC
    assert MIN_INSTANT <= parsed <= MAX_INSTANT
    # Arithmetic the features do (a day, a month, the widest offsets) cannot overflow.
    for delta in (timedelta(days=32), timedelta(hours=26)):
        (parsed + delta).astimezone(timezone(timedelta(hours=-14)))
        (parsed - delta).astimezone(timezone(timedelta(hours=14)))


@given(any_aware)
def test_aware_times_are_in_range_in_utc_or_refused(moment: datetime) -> None:
    _in_range_or_refused("at", moment.isoformat())
    _in_range_or_refused("at", moment)


@given(st.text(max_size=40) | st.integers() | st.floats())
def test_anything_else_is_refused_or_in_range(value: Any) -> None:
    _in_range_or_refused("at", value)
    _in_range_or_refused("utc", value)


@given(st.datetimes())
def test_naive_times_are_refused_or_read_as_utc_where_the_api_always_did(naive: datetime) -> None:
    try:
        Times.model_validate({"at": naive.isoformat()})
    except ValidationError:
        pass
    else:
        raise AssertionError("a naive time was accepted")
    _in_range_or_refused("utc", naive.isoformat())


@given(instants, offsets)
def test_accepted_times_are_written_in_the_one_form(moment: datetime, offset: timezone) -> None:
    written = Times(at=moment.astimezone(offset)).model_dump(mode="json")["at"]
    assert written == format_instant(moment)
    assert written.endswith("Z")
    assert "+" not in written
    assert datetime.fromisoformat(written) == moment


class Written(BaseModel):
    at: Instant
    maybe: Instant | None = None


@given(st.datetimes() | st.datetimes(timezones=st.just(UTC) | offsets))
def test_any_instant_answered_is_written_in_the_one_form(moment: datetime) -> None:
    """Output instants are written by pydantic-core, not a Python serializer: whatever the
    stored value (naive, any offset, any year), the text is `format_instant`'s."""
    model = Written(at=moment, maybe=moment)
    expected = format_instant(moment)
    assert model.model_dump(mode="json") == {"at": expected, "maybe": expected}
    assert json.loads(model.model_dump_json()) == {"at": expected, "maybe": expected}


@given(json_values, st.integers(min_value=1, max_value=8))
def test_depth_scanner_agrees_with_the_parsed_document(value: Any, limit: int) -> None:
    def depth(item: Any) -> int:
        if isinstance(item, list):
            return 1 + max((depth(i) for i in item), default=0)
        if isinstance(item, dict):
            return 1 + max((depth(i) for i in item.values()), default=0)
        return 0

    text = json.dumps(value)
    assert too_deep(text, limit) == (depth(value) > limit)
    # Read in arbitrary chunks, the answer is the same.
    scanner = JsonDepth(limit)
    encoded = text.encode()
    results = [scanner.feed(encoded[i : i + 3]) for i in range(0, len(encoded), 3)]
    assert any(results) == (depth(value) > limit)


# No deadline: a 5,000-deep walk takes longer than hypothesis's 200 ms on a loaded machine.
@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=2000, max_value=5000))
def test_the_nul_walk_survives_any_depth(depth: int) -> None:
    value: Any = "a\x00b"
    for _ in range(depth):
        value = {"k": [value]}
    where = _nul_at(value, "")
    assert where is not None
    assert where.endswith("k[0]")
